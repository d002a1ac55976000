"""A PDF beside the Word briefing, where LibreOffice (``soffice``) is installed.

The conversion runs headless in a subprocess with a timeout and a profile of its own (so it neither
waits for nor disturbs a LibreOffice the user has open). LibreOffice missing, failing or too slow is
logged and is not an error: the .docx is the briefing, the PDF a convenience.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT_S = 120


def soffice() -> str | None:
    """The LibreOffice executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, suffix: str = "pdf", *, timeout: float = TIMEOUT_S) -> Path | None:
    """Convert ``source`` with LibreOffice into ``source`` with ``suffix`` beside it; None if it could not."""
    program = soffice()
    if program is None:
        log.info("event=pdf-skipped reason=no-soffice path=%s", source)
        return None
    target = source.with_suffix(f".{suffix}")
    with (
        tempfile.TemporaryDirectory(prefix="yuqing-soffice-") as profile,
        tempfile.TemporaryDirectory(prefix="yuqing-pdf-", dir=source.parent) as out,
    ):
        command = [
            program, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
            "--convert-to", suffix, "--outdir", out, str(source),
        ]  # fmt: skip
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("event=pdf-failed path=%s error=%s", source, exc)
            return None
        produced = Path(out) / target.name
        if not produced.exists():
            log.warning("event=pdf-failed path=%s error=no output", source)
            return None
        produced.replace(target)  # same folder: atomic, a reader never sees half a PDF
    return target
