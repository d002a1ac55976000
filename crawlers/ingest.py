"""Posts from a JSONL, CSV, XLSX or XLS file into posts.raw, for imports and replays (``yuqing ingest``).

A source reader like the spiders, with the broker's producer handed in by the caller. A table's columns
are the contract's dotted names (``author.name``), the Chinese headers ``yuqing search --export`` writes
(编号, 发布时间, 来源 …, whose labels such as 留言板 and 负面 are mapped back to codes), or whatever
``mapping`` (``--map 字段=列名``) says; the header may sit below a title row. Fields the classifier
computes (情感, 话题, 风险分 …) go to ``raw.exported``: posts.raw has no place for them and the classify
stage computes them again. Every post is masked as the crawlers mask theirs
(:func:`core.masking.mask_text`). This is one of the stream's edges, so each post is validated here,
once, before it is published; a line that is not a valid post is not dropped silently: it goes to the
dead-letter topic with its line number and reason, and the import goes on; a file that cannot be read at
all is one dead letter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from archive.export import COLUMNS as EXPORT_COLUMNS
from core.china_time import CHINA_TZ, now_iso
from core.errors import MessageError
from core.labels import REPLY_LABELS, SENTIMENT_LABELS, SOURCE_LABELS
from core.masking import mask_name, mask_text
from core.messages import SCHEMA_VERSION, dead_letter, encode, post_id, validate_raw
from core.spreadsheet import restore_cell
from crawlers.exports import ExportError, cell_text, header_key, locate_header, read_table
from crawlers.normalise import parse_board_time
from stream.broker import Producer

INT_FIELDS = {"metrics", "author.followers"}
TABLE_SUFFIXES = (".csv", ".xlsx", ".xls")
# The export's Chinese header → the contract's dotted name.
EXPORT_FIELDS = {name: path for name, path in EXPORT_COLUMNS}
# What the classify stage computes: an export carries it, posts.raw does not (kept in raw.exported).
ENRICHED_HEADS = ("sentiment", "topic", "appeal_type", "risk", "event_id")
RAW_HEADS = (
    "schema", "id", "source", "channel", "url", "title", "text", "author", "published_at", "fetched_at",
    "region", "metrics", "reply", "hotline", "raw",
)  # fmt: skip
# The Chinese labels the dashboard and briefings show, back to the codes the contract holds.
# The export's words read back as codes: the words are core.labels' (what the export writes), plus
# the short 热线 people type by hand.
LABELS: dict[str, dict[str, str]] = {
    "source": {**{word: code for code, word in SOURCE_LABELS.items()}, "热线": "hotline"},
    "sentiment.label": {word: code for code, word in SENTIMENT_LABELS.items()},
    "reply.status": {word: code for code, word in REPLY_LABELS.items()},
}
TIME_FIELDS = ("published_at", "fetched_at", "reply.replied_at")
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M", "%Y年%m月%d日",
)  # fmt: skip
EMPTY_CELLS = ("", "—", "-")


class MappingError(ValueError):
    """A ``--map`` entry that names no field of the contract or the export."""


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


def field_path(name: str) -> str:
    """The contract's dotted name for ``name`` (a dotted name itself, or an export header like 正文)."""
    name = name.strip()
    path = EXPORT_FIELDS.get(name, name)
    if path.split(".", 1)[0] not in RAW_HEADS + ENRICHED_HEADS:
        known = "、".join(EXPORT_FIELDS)
        raise MappingError(f"未知字段“{name}”：可用 {known}，或 text、author.name 等点号字段名")
    return path


def parse_mapping(entries: list[str]) -> dict[str, str]:
    """``["字段=列名", …]`` as {dotted field: header}; raise :class:`MappingError` for a malformed one."""
    mapping: dict[str, str] = {}
    for entry in entries:
        name, sep, column = entry.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise MappingError(f"“{entry}”应写成 字段=列名")
        mapping[field_path(name)] = column.strip()
    return mapping


def read_rows(
    path: Path, mapping: Mapping[str, str] | None = None
) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """Yield (line number, decoded object or :class:`BadLine`) for each record of the file."""
    if path.suffix.lower() in TABLE_SUFFIXES:
        yield from _table_rows(path, mapping or {})
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


def _table_rows(path: Path, mapping: Mapping[str, str]) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    try:
        rows = read_table(path.read_bytes(), path.suffix)
    except (ExportError, OSError) as exc:
        yield 0, BadLine(exc.reason if isinstance(exc, ExportError) else f"unreadable file: {exc}", "")
        return
    mapped = {header_key(column): name for name, column in mapping.items()}

    def resolve(text: str) -> str | None:
        if header_key(text) in mapped:
            return mapped[header_key(text)]
        try:
            return field_path(text)
        except MappingError:
            return None

    header = locate_header(rows, resolve, ["text"])
    if header is None or "text" not in header.fields:
        yield 0, BadLine("no header row with a text column (正文 or text; or --map text=列名)", "")
        return
    for number, cells in rows:
        if number <= header.row:
            continue
        values = {name: cells[column] for column, name in enumerate(header.names) if name in header.fields}
        yield number, _nest(values)


def _nest(row: Mapping[str, object]) -> dict[str, Any]:
    """Columns like ``author.name`` or ``metrics.reposts`` become nested fields; labels become codes."""
    out: dict[str, Any] = {}
    for column, cell in row.items():
        value = _value(column, cell)
        if value is None:
            continue
        head, _, tail = column.partition(".")
        if head in ENRICHED_HEADS:
            out.setdefault("raw", {}).setdefault("exported", {})[column] = value
        elif not tail:
            out[column] = value
        else:
            out.setdefault(head, {})[tail] = value
    if "id" not in out and out.get("source") and out.get("channel"):
        # A stable id for a file without one: the same row ingested twice is the same post.
        basis = "\x1f".join(str(out.get(k, "")) for k in ("url", "title", "text", "published_at"))
        out["id"] = post_id(out["source"], out["channel"], hashlib.sha256(basis.encode()).hexdigest()[:16])
    return out


def _value(column: str, cell: object) -> object:
    """A cell as the contract holds it: a time as ISO 8601, a count as an integer, a label as its code."""
    if cell is None:
        return None
    if isinstance(cell, datetime | date):
        moment = cell if isinstance(cell, datetime) else datetime(cell.year, cell.month, cell.day)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)
        return moment.isoformat()
    numeric = column.partition(".")[0] == "metrics" or column in INT_FIELDS
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if numeric or column.endswith("score"):
            return int(cell) if numeric else cell
        cell = cell_text(cell)  # an order number typed into Excel is text to the contract
    text = str(restore_cell(str(cell))).strip()
    if text in EMPTY_CELLS:
        return None
    text = LABELS.get(column, {}).get(text, text)
    if numeric and text.lstrip("-").isdigit():
        return int(text)
    if column in TIME_FIELDS and "T" not in text:
        parsed = parse_board_time(text, TIME_FORMATS)
        return parsed.isoformat() if parsed is not None else text
    if column == "author.verified":
        return {"是": True, "true": True, "否": False, "false": False}.get(text.lower(), text)
    return text


def mask(post: dict[str, Any]) -> dict[str, Any]:
    """Mask personal data as the crawlers do: ID and mobile numbers in text, a private author's name."""
    for name in ("title", "text"):
        if isinstance(post.get(name), str):
            post[name] = mask_text(post[name])
    for part, names in (("reply", ("text",)), ("hotline", ("caller",))):
        obj = post.get(part)
        if isinstance(obj, dict):
            for name in names:
                if isinstance(obj.get(name), str):
                    obj[name] = mask_text(obj[name])
    author = post.get("author")
    if (
        isinstance(author, dict)
        and isinstance(author.get("name"), str)
        and author.get("verified") is not True
    ):
        author["name"] = mask_name(author["name"])
    if post.get("raw") is not None:
        post["raw"] = _mask_deep(post["raw"])
    return post


def _mask_deep(value: object) -> object:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: _mask_deep(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_deep(item) for item in value]
    return value


def ingest_file(
    path: Path,
    producer: Producer,
    *,
    topic: str,
    dlq_topic: str,
    mapping: Mapping[str, str] | None = None,
) -> IngestReport:
    """Publish every valid post of ``path`` to ``topic``, masked; dead-letter the rest with their reason.

    ``mapping`` is {dotted field: header} for a table whose headers are neither ours nor the export's.
    """
    report = IngestReport()
    for number, row in read_rows(path, mapping):
        try:
            if isinstance(row, BadLine):
                raise MessageError(row.reason)
            row.setdefault("schema", SCHEMA_VERSION)
            row.setdefault("fetched_at", now_iso())
            post = validate_raw(mask(row))
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
