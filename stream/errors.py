"""The stream package's exception tree."""

from __future__ import annotations


class StreamError(Exception):
    """Base of every error raised by the stream package."""


class MessageError(StreamError):
    """A message that can never be processed (a poison message): it goes to the dead-letter topic."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason if field is None else f"{field}: {reason}")
        self.reason = reason
        self.field = field


class TransientError(StreamError):
    """A sink or broker is unavailable for now: hold the offset, back off and retry."""

    def __init__(self, reason: str, *, retry_after: float = 1.0) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PartialFailure(StreamError):
    """A sink stored its batch except ``rejected`` (record key → reason), which can never be stored."""

    def __init__(self, rejected: dict[str, str]) -> None:
        super().__init__(f"{len(rejected)} record(s) rejected by the sink")
        self.rejected = rejected


class SystemicFailure(StreamError):
    """Every record of a batch failed on its own, again and again: a bug or a dead dependency, not poison."""

    def __init__(self, stage: str, records: int, reason: str) -> None:
        super().__init__(f"stage {stage}: all {records} records of the batch failed; first: {reason}")
        self.stage = stage
        self.records = records
        self.reason = reason


class RebalanceError(StreamError):
    """This member lost its partitions to another member before committing: the batch will be redone there."""


class BrokerError(StreamError):
    """The broker refused or failed an operation that is not worth retrying."""
