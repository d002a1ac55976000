"""The crawlers package's exception tree.

Items that fail a pipeline are dropped with Scrapy's own ``DropItem`` (its engine handles that type);
everything else the package raises derives from :class:`CrawlerError`.
"""

from __future__ import annotations

from pathlib import Path


class CrawlerError(Exception):
    """Base of every error raised by the crawlers package."""


class SourceConfigError(CrawlerError):
    """A board configuration (sources.yaml) that cannot be used, naming the board and the field at fault."""

    def __init__(self, path: Path | str, reason: str, *, board: str | None = None, field: str | None = None):
        where = str(path)
        if board is not None:
            where += f": board {board!r}"
        if field is not None:
            where += f", field {field!r}" if board is not None else f": field {field!r}"
        super().__init__(f"{where}: {reason}")
        self.path = Path(path)
        self.board = board
        self.field = field
        self.reason = reason


class ItemRejected(CrawlerError):
    """An item that cannot become a message; ``reason`` is short and stable so drops can be counted.

    The pipelines translate it into Scrapy's ``DropItem(reason)``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
