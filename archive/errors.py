"""The archive package's exception tree."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base of every error raised by the archive package."""


class ArchiveUnavailable(ArchiveError):
    """The archive cannot be reached or refused a write for now: callers retry with backoff."""


class QueryError(ArchiveError):
    """A search the archive cannot run, with what is wrong and where (a user-facing message)."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class DocumentRejected(ArchiveError):
    """Posts the archive refuses as they are (a field of the wrong type, a bad time): retrying cannot help.

    ``rejected`` maps each refused post id to the reason; the message names them. Other posts of
    the same batch may have been stored (Elasticsearch) or not (the embedded archive writes a batch
    in one transaction and checks every post first).
    """

    def __init__(self, rejected: dict[str, str]) -> None:
        first_id, first_reason = next(iter(rejected.items()))
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        super().__init__(f"post {first_id!r} rejected: {first_reason}{more}")
        self.rejected = rejected

    @property
    def post_id(self) -> str:
        """The first refused post's id."""
        return next(iter(self.rejected))


class QueryTimeout(QueryError):
    """A query that ran past the archive's time budget and was cancelled (the archive stays usable)."""

    def __init__(self, budget_s: float) -> None:
        super().__init__(f"查询超过 {budget_s:g} 秒未完成，已取消；请缩小时间范围或简化条件")
        self.budget_s = budget_s
