"""The core's exception tree."""

from __future__ import annotations


class CoreError(Exception):
    """Base of every error raised by the core package."""


class MessageError(CoreError):
    """A message that can never be processed (a poison message): it goes to the dead-letter topic."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason if field is None else f"{field}: {reason}")
        self.reason = reason
        self.field = field
