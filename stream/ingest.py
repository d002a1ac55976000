"""Posts from a JSONL or CSV file into posts.raw, for imports and replays.

A line that is not a valid post is not dropped silently: it goes to the dead-letter topic with its
line number and reason, and the import goes on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream.broker import Producer
from stream.errors import MessageError
from stream.messages import SCHEMA_VERSION, dead_letter, encode, now_iso, validate_raw

INT_FIELDS = {"metrics", "author.followers"}


@dataclass
class IngestReport:
    """What an import did."""

    published: int = 0
    dead_lettered: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BadLine:
    """A line that could not be decoded, kept whole for the dead-letter topic."""

    reason: str
    text: str


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """Yield (line number, decoded object or :class:`BadLine`) for each record of the file."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                yield number, _nest(row)
        return
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, BadLine(f"not JSON: {exc.msg} at char {exc.pos}", line.rstrip("\n"))
                continue
            except RecursionError:
                yield number, BadLine("nested too deeply to decode", line.rstrip("\n"))
                continue
            yield number, obj if isinstance(obj, dict) else BadLine("not a JSON object", line.rstrip("\n"))


def _nest(row: dict[str, str | None]) -> dict[str, Any]:
    """CSV columns like ``author.name`` or ``metrics.reposts`` become nested fields."""
    out: dict[str, Any] = {}
    for column, value in row.items():
        if column is None or value is None or value == "":
            continue
        head, _, tail = column.partition(".")
        if not tail:
            out[column] = value
            continue
        numeric = head == "metrics" or column in INT_FIELDS
        out.setdefault(head, {})[tail] = int(value) if numeric and value.lstrip("-").isdigit() else value
    return out


def ingest_file(path: Path, producer: Producer, *, topic: str, dlq_topic: str) -> IngestReport:
    """Publish every valid post of ``path`` to ``topic``; dead-letter the rest with their reason."""
    report = IngestReport()
    for number, row in read_rows(path):
        try:
            if isinstance(row, BadLine):
                raise MessageError(row.reason)
            row.setdefault("schema", SCHEMA_VERSION)
            row.setdefault("fetched_at", now_iso())
            post = validate_raw(row)
        except MessageError as exc:
            reason = f"{path.name}:{number}: {exc}"
            report.errors.append(reason)
            payload = row.text if isinstance(row, BadLine) else json.dumps(row, ensure_ascii=False)
            producer.send(
                dlq_topic,
                None,
                encode(
                    dead_letter(
                        stage="ingest",
                        error=reason,
                        topic=str(path),
                        partition=0,
                        offset=number,
                        key=None,
                        payload=payload.encode("utf-8"),
                        failed_at=now_iso(),
                    )
                ),
            )
            report.dead_lettered += 1
            continue
        producer.send(topic, post["id"], encode(post))
        report.published += 1
    producer.flush()
    return report
