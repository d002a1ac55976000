"""Write a briefing as .docx, .md or .html: charts drawn once, the outline mapped by its renderer."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from briefing.charts import briefing_charts
from briefing.errors import RenderError
from briefing.model import Briefing
from briefing.outline import build_outline

SUFFIXES = (".docx", ".md", ".html", ".htm")


def render(
    b: Briefing, suffix: str, charts: Mapping[str, bytes] | None = None, *, docx_template: Path | None = None
) -> bytes:
    """The file content of ``b`` in the format of ``suffix`` (``.docx``, ``.md``, ``.html``).

    ``charts`` are PNGs already drawn by :func:`briefing_charts` (drawn here when None);
    ``docx_template`` is the office's own Word file for a .docx (``Settings.briefing_docx_template``).
    """
    suffix = suffix.lower()
    if suffix not in SUFFIXES:
        raise RenderError(Path(f"*{suffix}"), f"unknown briefing format; use one of {', '.join(SUFFIXES)}")
    outline = build_outline(b, briefing_charts(b) if charts is None else charts)
    if suffix == ".docx":
        from briefing.docx import to_docx

        return to_docx(outline, docx_template)
    if suffix == ".md":
        from briefing.markdown import to_markdown

        return to_markdown(outline).encode("utf-8")
    from briefing.html import to_html

    return to_html(outline).encode("utf-8")


def write_briefing(b: Briefing, path: Path, *, pdf: bool = False, docx_template: Path | None = None) -> Path:
    """Write ``b`` to ``path`` (format by suffix) atomically: a reader never sees half a file.

    With ``pdf``, a .docx also gets a PDF beside it where LibreOffice is installed (see :mod:`briefing.pdf`).
    """
    content = render(b, path.suffix, docx_template=docx_template)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".briefing-", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        Path(temporary).replace(path)
    except OSError as exc:
        raise RenderError(path, f"cannot write the briefing: {exc}") from exc
    if pdf and path.suffix.lower() == ".docx":
        from briefing.pdf import convert

        convert(path)
    return path
