"""The demo site's own error: what it serves is malformed."""

from __future__ import annotations

from pathlib import Path

from crawlers.errors import CrawlerError


class DemoDataError(CrawlerError):
    """The demo site's own messages or a real-data file it was asked to serve is malformed."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason
