"""The delivery log: every attempt to deliver a notice, one JSON line each under the service's home.

An attempt records when, the channel, the target with its secrets redacted (robot ``key``,
``access_token``, ``sign``), the subject, which try it was and the result. The 系统管理 page shows the
newest attempts read-only; nothing here ever holds a robot key, a signing secret or a password.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.redact import redact

LOG_NAME = "notifications.jsonl"


@dataclass(frozen=True)
class Attempt:
    """One try at delivering one notice to one target."""

    at: datetime
    channel: str
    target: str  # already redacted
    subject: str
    attempt: int
    ok: bool
    error: str = ""  # already redacted


class DeliveryLog(Protocol):
    """Where attempts are recorded."""

    def record(self, attempt: Attempt) -> None:
        """Append ``attempt``."""
        ...


class NullDeliveryLog:
    """Records nothing (tests, or a caller without a home)."""

    def record(self, attempt: Attempt) -> None:
        """Forget ``attempt``."""


class JsonlDeliveryLog:
    """Attempts appended to a JSON Lines file; one writer lock per process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, attempt: Attempt) -> None:
        """Append ``attempt`` as one line (redacting the target and error once more, to be sure)."""
        row = asdict(attempt) | {
            "at": attempt.at.isoformat(timespec="seconds"),
            "target": redact(attempt.target),
            "error": redact(attempt.error),
        }
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)


def delivery_log_path(home: Path) -> Path:
    """The delivery log of the service whose files live under ``home``."""
    return home / LOG_NAME


def read_attempts(path: Path, *, limit: int = 500) -> list[Attempt]:
    """The newest ``limit`` attempts, newest first; a missing file is no attempts, a bad line is skipped."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as source:
        lines = deque(source, maxlen=limit)
    attempts: list[Attempt] = []
    for line in reversed(lines):
        try:
            row = json.loads(line)
            attempts.append(
                Attempt(
                    at=datetime.fromisoformat(row["at"]),
                    channel=str(row["channel"]),
                    target=str(row["target"]),
                    subject=str(row.get("subject", "")),
                    attempt=int(row.get("attempt", 1)),
                    ok=bool(row["ok"]),
                    error=str(row.get("error", "")),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash mid-write
    return attempts
