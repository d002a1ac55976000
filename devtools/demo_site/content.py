"""What the demo site serves: boards of messages, from our own messages.json and optionally real data.

Our messages carry minutes-before-start offsets, turned into absolute times when the site starts, so
a freshly started demo always shows recent posts. The real-data board replays the 2020 泰迪杯
message-board release from the shared data folder; it is read in place and never copied.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from core.china_time import CHINA_TZ
from demo_site.errors import DemoDataError

MESSAGES_FILE = Path(__file__).with_name("messages.json")
REAL_BOARD_FILE = Path("boards") / "teddy2020_messages_with_replies.csv"
REAL_COLUMNS = ("留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
REPLIED = "已回复"
PENDING = "未回复"


@dataclass(frozen=True)
class SiteReply:
    """A department's answer as the site shows it; the real data names no unit."""

    unit: str | None
    replied_at: datetime
    text: str


@dataclass(frozen=True)
class SiteMessage:
    """One citizen message on a board (times are naive China time, as boards print them)."""

    id: str
    title: str
    author: str
    posted_at: datetime
    text: str
    reply: SiteReply | None = None

    @property
    def status(self) -> str:
        """办理状态 as the board prints it."""
        return REPLIED if self.reply is not None else PENDING


@dataclass(frozen=True)
class Board:
    """A board of the site: its path segment, its name, and its messages newest first."""

    slug: str
    title: str
    notice: str
    messages: tuple[SiteMessage, ...]
    page_size: int = 15

    @cached_property
    def by_id(self) -> dict[str, SiteMessage]:
        """Messages by their number, for detail pages."""
        return {message.id: message for message in self.messages}

    @property
    def page_count(self) -> int:
        """Number of list pages (at least one, possibly empty)."""
        return max(1, -(-len(self.messages) // self.page_size))

    def page(self, number: int) -> Sequence[SiteMessage]:
        """The messages of list page ``number`` (1-based)."""
        start = (number - 1) * self.page_size
        return self.messages[start : start + self.page_size]


def _anchor(now: datetime | None) -> datetime:
    moment = datetime.now(CHINA_TZ) if now is None else now.astimezone(CHINA_TZ)
    return moment.replace(tzinfo=None, microsecond=0)


def demo_messages(now: datetime | None = None, *, path: Path = MESSAGES_FILE) -> list[SiteMessage]:
    """Our own messages with absolute times counted back from ``now`` (default: this moment)."""
    anchor = _anchor(now)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["messages"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DemoDataError(path, f"cannot read the demo messages: {exc}") from exc
    return [_demo_message(entry, anchor, path) for entry in entries]


def _demo_message(entry: Any, anchor: datetime, path: Path) -> SiteMessage:
    try:
        posted_at = anchor - timedelta(minutes=int(entry["posted_minutes_ago"]))
        reply = entry.get("reply")
        site_reply = None
        if reply is not None:
            replied_at = anchor - timedelta(minutes=int(reply["minutes_ago"]))
            if replied_at <= posted_at:
                raise DemoDataError(path, f"message {entry['id']}: replied before it was posted")
            site_reply = SiteReply(unit=str(reply["unit"]), replied_at=replied_at, text=str(reply["text"]))
        return SiteMessage(
            id=str(entry["id"]),
            title=str(entry["title"]),
            author=str(entry["author"]),
            posted_at=posted_at,
            text=str(entry["text"]),
            reply=site_reply,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DemoDataError(path, f"malformed message {entry!r:.80}: {exc!r}") from exc


def real_messages(path: Path, *, limit: int | None = None) -> list[SiteMessage]:
    """The first ``limit`` rows of the real message-board CSV (all rows when None), times as printed."""
    messages: list[SiteMessage] = []
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REAL_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise DemoDataError(path, f"missing columns {missing}")
            for row in reader:
                if limit is not None and len(messages) >= limit:
                    break
                messages.append(_real_message(row, path))
    except OSError as exc:
        raise DemoDataError(path, f"cannot read: {exc}") from exc
    return messages


def _real_message(row: dict[str, str], path: Path) -> SiteMessage:
    try:
        reply_text = row["答复意见"].strip()
        reply = None
        if reply_text:
            reply = SiteReply(None, datetime.strptime(row["答复时间"].strip(), TIME_FORMAT), reply_text)
        return SiteMessage(
            id=row["留言编号"].strip(),
            title=row["留言主题"].strip(),
            author=row["留言用户"].strip(),
            posted_at=datetime.strptime(row["留言时间"].strip(), TIME_FORMAT),
            text=row["留言详情"],
            reply=reply,
        )
    except ValueError as exc:
        raise DemoDataError(path, f"row {row.get('留言编号')!r}: {exc}") from exc


def newest_first(messages: list[SiteMessage]) -> tuple[SiteMessage, ...]:
    """Messages in the order boards list them: newest first, then by number."""
    return tuple(sorted(messages, key=lambda m: (m.posted_at, m.id), reverse=True))


def demo_board(now: datetime | None = None) -> Board:
    """The demo board of the fictional 云溪市 with our own messages."""
    return Board(
        slug="liuyan",
        title="网上留言",
        notice="本站为舆情监测系统的演示站点，留言内容均为虚构，如有雷同纯属巧合。",
        messages=newest_first(demo_messages(now)),
    )


def real_board(data_dir: Path, *, limit: int | None = None) -> Board | None:
    """The real-data board when ``data_dir`` holds the release, else None."""
    path = data_dir / REAL_BOARD_FILE
    if not path.is_file():
        return None
    return Board(
        slug="real",
        title="问政留言（公开数据回放）",
        notice="留言数据来自2020年泰迪杯数据挖掘挑战赛“智慧政务”公开数据，仅用于系统测试回放。",
        messages=newest_first(real_messages(path, limit=limit)),
        page_size=20,
    )
