"""The briefing as Markdown: every text escaped, charts embedded as PNG data URIs."""

from __future__ import annotations

import base64
import re

from briefing.outline import LINK, Heading, Image, Outline, Paragraph, Table

# Backslash-escaping any ASCII punctuation is valid CommonMark; these are the ones that mean something.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")
_URL = re.compile(r"https?://[^\s<>\"'`\\|]+")


def escape(text: str) -> str:
    """``text`` as literal Markdown on one line: markup characters escaped, line breaks as spaces."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.replace("\r", " ").split("\n")))


def _cell(value: str, *, link: bool) -> str:
    parts = []
    for line in value.split("\n"):
        # Only a plain http(s) URL becomes a link; anything else (javascript:, data:) stays text.
        parts.append(f"<{line}>" if link and _URL.fullmatch(line) else escape(line))
    return " <br> ".join(parts) if link else " / ".join(parts)


def to_markdown(outline: Outline) -> str:
    """The Markdown text of ``outline``."""
    lines = [
        f"> {escape(outline.header)}",
        "",
        f"# {escape(outline.title)}",
        "",
        escape(outline.subtitle),
        "",
    ]
    for block in outline.blocks:
        if isinstance(block, Heading):
            lines += [f"{'#' * (block.level + 1)} {escape(block.text)}", ""]
        elif isinstance(block, Paragraph):
            lines += [escape(block.text), ""]
        elif isinstance(block, Table):
            lines.append("| " + " | ".join(escape(h) for h in block.headers) + " |")
            lines.append("|" + "---|" * len(block.headers))
            for row in block.rows:
                cells = [_cell(v, link=h == LINK) for h, v in zip(block.headers, row, strict=True)]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        elif isinstance(block, Image) and block.png is not None:
            data = base64.b64encode(block.png).decode("ascii")
            lines += [
                f"![{escape(block.caption)}](data:image/png;base64,{data})",
                "",
                escape(block.caption),
                "",
            ]
    return "\n".join(lines)
