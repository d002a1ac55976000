"""The broker port: what a stage needs from a log with consumer groups, whichever backend serves it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Record:
    """One message read from a topic."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes


class Producer(Protocol):
    """Writes messages; ``flush`` returns only when every sent message is durable on the broker."""

    def send(self, topic: str, key: str | None, value: bytes) -> None:
        """Queue one message."""

    def flush(self) -> None:
        """Block until every queued message is acknowledged; raise ``TransientError`` if it cannot be."""

    def close(self) -> None:
        """Flush and release the connection."""


class Consumer(Protocol):
    """Reads a group's share of some topics; offsets advance only on ``commit``."""

    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Return up to ``max_records`` messages after the last ones returned (may be empty)."""

    def commit(self) -> None:
        """Commit everything returned by ``poll`` so far."""

    def rewind(self) -> None:
        """Forget uncommitted reads so the next ``poll`` starts again at the committed offsets."""

    def close(self) -> None:
        """Leave the group without committing."""


@dataclass(frozen=True)
class Lag:
    """How far a consumer group is behind on one topic."""

    group: str
    topic: str
    end_offset: int
    committed: int

    @property
    def lag(self) -> int:
        """Messages written but not yet committed by the group."""
        return max(self.end_offset - self.committed, 0)


class Broker(Protocol):
    """A factory for producers and consumers of one broker, plus the admin calls the service needs."""

    def ensure_topics(self, names: Iterable[str]) -> None:
        """Create the topics that are missing."""

    def producer(self) -> Producer:
        """A new producer."""

    def consumer(self, group: str, topics: Sequence[str]) -> Consumer:
        """A new member of consumer group ``group`` reading ``topics``."""

    def lag(self, group: str, topic: str) -> Lag:
        """The group's committed position against the topic's end."""

    def read(self, topic: str, limit: int, offset: int = 0) -> list[Record]:
        """Read messages without a group, for inspection (e.g. the dead-letter topic)."""

    def close(self) -> None:
        """Release admin connections."""


# How a library that publishes is handed its broker: the composition root (``yuqing``) maps settings to
# an adapter and passes a zero-argument factory in; every call returns a new broker the caller closes.
BrokerFactory = Callable[[], Broker]
