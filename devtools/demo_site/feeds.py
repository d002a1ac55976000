"""The demo site's JSON sources: a 12345 work-order API and a Weibo-like mobile ``getIndex`` API.

Our own orders and posts come from ``feeds.json`` (times are minutes before the start); with the shared
data folder the Dongguan 阳光热线问政 complaints and the 2020 Weibo sample are served through the same
APIs, read in place and never copied.
"""

from __future__ import annotations

import csv
import json
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from demo_site.errors import DemoDataError

FEEDS_FILE = Path(__file__).with_name("feeds.json")
DONGGUAN_FILE = Path("hotline") / "dongguan_wenzheng_complaints.csv"
WEIBO_FILE = Path("stream") / "weibo_2020_10k.csv"
TIME = "%Y-%m-%d %H:%M:%S"
WEIBO_TIME = "%a %b %d %H:%M:%S +0800 %Y"
WEIBO_PAGE_SIZE = 10
SEARCH_PREFIX = "100103type=1&q="
TIMELINE_PREFIX = "107603"


@dataclass
class Feeds:
    """Work orders (API records, newest update first) and mblogs (newest first) the site serves."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    mblogs: list[dict[str, Any]] = field(default_factory=list)

    def hotline_page(self, page: int, page_size: int, updated_since: str | None) -> dict[str, Any]:
        """One page of the work-order API: ``{"code": 0, "data": {"page", "pages", "total", "records"}}``."""
        orders = self.orders
        if updated_since:
            since = updated_since.replace("T", " ")[:19]
            orders = [order for order in orders if order["updateTime"] >= since]
        size = max(1, min(page_size, 200))
        pages = max(1, -(-len(orders) // size))
        records = orders[(page - 1) * size : page * size]
        return {
            "code": 0,
            "msg": "ok",
            "data": {"page": page, "pages": pages, "total": len(orders), "records": records},
        }

    def weibo_page(self, container: str, page: int) -> dict[str, Any]:
        """One page of ``getIndex`` for a keyword search or an account timeline; ``ok: 0`` past the end."""
        if container.startswith(SEARCH_PREFIX):
            keyword = container.removeprefix(SEARCH_PREFIX)
            found = [m for m in self.mblogs if keyword and keyword in m["text"]]
        elif container.startswith(TIMELINE_PREFIX):
            uid = container.removeprefix(TIMELINE_PREFIX)
            found = [m for m in self.mblogs if str(m["user"]["id"]) == uid]
        else:
            return {"ok": 0, "msg": "参数错误"}
        chunk = found[(page - 1) * WEIBO_PAGE_SIZE : page * WEIBO_PAGE_SIZE]
        if not chunk:
            return {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}
        cards = [{"card_type": 9, "itemid": m["id"], "mblog": m} for m in chunk]
        # The real site groups some results in a type-11 card; so does ours, to keep the spider honest.
        if len(cards) > 2:
            cards = [*cards[:-2], {"card_type": 11, "card_group": cards[-2:]}]
        return {"ok": 1, "data": {"cardlistInfo": {"page": page + 1, "total": len(found)}, "cards": cards}}


def demo_feeds(anchor: datetime, *, path: Path = FEEDS_FILE) -> Feeds:
    """Our own orders and posts with absolute times counted back from ``anchor`` (naive China time)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        orders = [_order(entry, anchor) for entry in data["hotline"]]
        users = {user["id"]: user for user in data["weibo_users"]}
        mblogs = [_mblog(entry, users, anchor) for entry in data["weibo"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DemoDataError(path, f"cannot read the demo feeds: {exc!r}") from exc
    return Feeds(_newest_first(orders, "updateTime"), mblogs[::-1])


def _order(entry: dict[str, Any], anchor: datetime) -> dict[str, Any]:
    order = {k: v for k, v in entry.items() if not k.endswith("minutes_ago")}
    order["acceptTime"] = (anchor - timedelta(minutes=int(entry["minutes_ago"]))).strftime(TIME)
    finished = entry.get("finish_minutes_ago")
    order["finishTime"] = (anchor - timedelta(minutes=int(finished))).strftime(TIME) if finished else None
    order["updateTime"] = order["finishTime"] or order["acceptTime"]
    return order


def _mblog(entry: dict[str, Any], users: dict[int, Any], anchor: datetime) -> dict[str, Any]:
    created = anchor - timedelta(minutes=int(entry["minutes_ago"]))
    mblog = {k: v for k, v in entry.items() if k not in ("minutes_ago", "user", "retweeted")}
    mblog["created_at"] = created.strftime(WEIBO_TIME)
    mblog["user"] = users[entry["user"]]
    if entry.get("retweeted"):
        mblog["retweeted_status"] = {"id": entry["retweeted"]}
    return mblog


def add_real_feeds(feeds: Feeds, data_dir: Path, *, limit: int | None) -> list[str]:
    """Append the shared data's hotline complaints and Weibo posts when present; names of what was added."""
    added = []
    dongguan = data_dir / DONGGUAN_FILE
    if dongguan.is_file():
        # A platform never lists an order without its number or time: the release's rows without a
        # year_month (most of them) or repeating a number are not served.
        seen: set[str] = set()
        rows: list[dict[str, str]] = []
        for row in _rows(dongguan, None):
            number, month = row["number"].strip(), row["year_month"].strip()
            if number and month and number not in seen and (limit is None or len(rows) < limit):
                seen.add(number)
                rows.append(row)
        feeds.orders += _newest_first([_dongguan(row) for row in rows], "updateTime")
        added.append("hotline")
    weibo = data_dir / WEIBO_FILE
    if weibo.is_file():
        feeds.mblogs += [_real_mblog(row) for row in _rows(weibo, limit)][::-1]
        added.append("weibo")
    return added


def _rows(path: Path, limit: int | None) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows: list[dict[str, str]] = []
            for row in csv.DictReader(handle):
                if limit is not None and len(rows) >= limit:
                    break
                rows.append(row)
            return rows
    except (OSError, csv.Error) as exc:
        raise DemoDataError(path, f"cannot read: {exc}") from exc


def _dongguan(row: dict[str, str]) -> dict[str, Any]:
    accepted = f"{row['year_month'].strip()}-01 00:00:00"
    return {
        "orderNo": f"DG{row['number'].strip()}",
        "acceptTime": accepted,
        "appealType": "投诉",
        "title": row["title"],
        "content": row["content"],
        "region": "东莞市",
        "status": "已受理",
        "updateTime": accepted,
        "source": "阳光热线问政（公开数据回放）",  # an extra key the spider keeps in raw.extra
    }


def _real_mblog(row: dict[str, str]) -> dict[str, Any]:
    author = row["author"]
    created = datetime.strptime(row["post_time"].strip(), "%Y-%m-%d %H:%M:%S")
    user = {
        "id": zlib.crc32(author.encode("utf-8")),
        "screen_name": author,
        "followers_count": 0,
        "verified": False,
    }
    return {
        "id": row["weibo_id"],
        "created_at": created.strftime(WEIBO_TIME),
        "text": row["text"],
        "reposts_count": 0,
        "comments_count": 0,
        "attitudes_count": 0,
        "user": user,
    }


def _newest_first(orders: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(orders, key=lambda order: (order[key], order["orderNo"]), reverse=True)
