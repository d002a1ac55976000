"""The briefing package's exception tree: one base, context kept as attributes (httpx style)."""

from __future__ import annotations

from pathlib import Path


class BriefingError(Exception):
    """Base of every error raised by the briefing package."""


class TemplateError(BriefingError):
    """A briefing template YAML that cannot be read or holds a value the renderers cannot use."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class PeriodError(BriefingError):
    """A period kind, date or schedule time the briefing does not know (a user-facing message)."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"{reason}：{value}")
        self.value = value
        self.reason = reason


class RenderError(BriefingError):
    """A briefing that cannot be written: an unknown file type or a file that cannot be written."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class SourceUnavailable(BriefingError):
    """The archive or the ledger could not be read; a scheduled run retries at its next slot."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source} unavailable: {reason}")
        self.source = source
        self.reason = reason
