"""Every configured source of every kind, read from one sources.yaml, and what the crawler knows of each.

:func:`load_all` reads the whole file in its order: boards (no ``kind``), JSON boards (``board-json``),
news (``news``), and the hotline and Weibo-like kinds of :mod:`crawlers.feeds`. :func:`describe_sources`
is what the 系统管理 page shows: each source with its kind, address, schedule, latest crawl, posts
published and pause, read from the files the crawler writes (``published.sqlite``'s crawl log and
published ids, ``alerts.json``, ``rounds.json``); it never writes anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from core.china_time import CHINA_TZ
from crawlers import feeds as feed_config
from crawlers.alerts import read_alerts
from crawlers.board_json import JsonBoardSource, parse_json_board
from crawlers.errors import SourceConfigError
from crawlers.feeds import FEED_KINDS, FeedSource
from crawlers.news import NewsSource, parse_news
from crawlers.rounds import rounds_path
from crawlers.sources import PACKAGED_SOURCES, BoardSource, load_sources
from crawlers.state import count_published, read_crawls
from yuqing.settings import Settings

AnySource = BoardSource | FeedSource | JsonBoardSource | NewsSource
ALL_KINDS = ("board", "board-json", "news", *FEED_KINDS)
KIND_LABELS = {
    "board": "网页留言板",
    "board-json": "JSON 留言板",
    "news": "新闻",
    "hotline-api": "12345 接口",
    "hotline-inbox": "12345 导出文件",
    "weibo": "微博",
}
# The message source each kind publishes under: the first part of its posts' ids.
POST_SOURCES = {
    "board": "board", "board-json": "board", "news": "news", "hotline-api": "hotline",
    "hotline-inbox": "hotline", "weibo": "weibo",
}  # fmt: skip
SEEN_FILE = "published.sqlite"  # crawlers.pipelines.SEEN_FILE (not imported: that module pulls in Scrapy)


def kind_of(source: AnySource) -> str:
    """A source's kind: board, board-json, news, hotline-api, hotline-inbox or weibo."""
    return "board" if isinstance(source, BoardSource) else source.kind


def sources_path(settings: Settings) -> Path:
    """The sources file in use: ``Settings.sources_file``, else the packaged one."""
    return settings.sources_file or PACKAGED_SOURCES


def load_all(path: Path) -> list[AnySource]:
    """Every source of the file, in its order; :class:`SourceConfigError` names the source and field at fault.

    Names are unique across kinds (they key the pauses, the schedule and ``--only``).
    """
    boards = iter(load_sources(path))  # also refuses a file that is not a non-empty YAML list
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[AnySource] = []
    for index, entry in enumerate(data):
        kind = entry.get("kind", "board")
        label = entry.get("name") if isinstance(entry.get("name"), str) else f"#{index + 1}"
        if kind == "board":
            out.append(next(boards))
        elif kind == "board-json":
            out.append(parse_json_board(path, entry, index))
        elif kind == "news":
            out.append(parse_news(path, entry, index))
        elif kind in FEED_KINDS:
            out.append(feed_config._parse(path, entry, f"#{index + 1}"))
        else:
            raise SourceConfigError(
                path,
                f"unknown kind {kind!r}; expected one of {', '.join(ALL_KINDS)}",
                board=label,
                field="kind",
            )
        if any(other.name == out[-1].name for other in out[:-1]):
            raise SourceConfigError(path, "another source has this name", board=out[-1].name, field="name")
    return out


def find_source(settings: Settings, name: str) -> AnySource | None:
    """The configured source called ``name``, or None."""
    return next((s for s in load_all(sources_path(settings)) if s.name == name), None)


def address(source: AnySource) -> str:
    """Where a source is read: its first page, API, feed, or the inbox folder."""
    if isinstance(source, FeedSource):
        if source.kind == "hotline-inbox":
            return str(source.inbox or "")
        return source.start_url or source.api_url
    return source.start_url


@dataclass(frozen=True)
class SourceInfo:
    """One configured source as the 系统管理 page lists it (times ISO in China time, or None)."""

    name: str
    display_name: str
    kind: str
    kind_label: str
    url: str
    host: str
    every_s: int | None
    schedule: str
    last_started: str | None = None
    last_finished: str | None = None
    last_result: str | None = None
    last_published: int = 0
    last_pages: int = 0
    last_errors: int = 0
    last_dead_letters: int = 0
    last_dropped: Mapping[str, int] = field(default_factory=dict)
    items: int = 0
    paused: bool = False
    paused_until: str | None = None
    pause_reason: str | None = None

    @property
    def status(self) -> str:
        """正常, 已暂停 (until when and why), or 从未抓取."""
        if self.paused:
            until = (self.paused_until or "")[:16].replace("T", " ")
            reason = "遇到登录或验证码页面" if self.pause_reason == "login-or-captcha" else self.pause_reason
            return f"已暂停至 {until}（{reason or '原因未记录'}）"
        if self.last_finished is None:
            return "从未抓取"
        return "正常" if self.last_result in (None, "finished") else f"异常：{self.last_result}"

    def as_row(self) -> dict[str, Any]:
        """The source as a table row with Chinese column names (the page's dataframe)."""
        when = (self.last_finished or "")[:16].replace("T", " ") or "—"
        return {
            "名称": self.display_name,
            "渠道": self.name,
            "类型": self.kind_label,
            "地址": self.url,
            "抓取周期": self.schedule,
            "上次抓取": when,
            "上次发布": self.last_published,
            "上次失败页面": self.last_dead_letters,
            "上次错误日志": self.last_errors,
            "累计帖子": self.items,
            "状态": self.status,
        }


def describe_sources(settings: Settings, *, now: datetime | None = None) -> list[SourceInfo]:
    """Every configured source with its latest crawl, published posts and pause; reads, never writes.

    Raises :class:`SourceConfigError` when the sources file cannot be used (the page shows why).
    """
    moment = now or datetime.now(CHINA_TZ)
    sources = load_all(sources_path(settings))
    state = settings.crawl_state_path
    crawls = read_crawls(state / SEEN_FILE)
    rounds = _rounds(state)
    alerts = read_alerts(state)
    prefixes = [f"{POST_SOURCES[kind_of(s)]}:{s.name}:" for s in sources]
    published = count_published(state / SEEN_FILE, prefixes)
    out: list[SourceInfo] = []
    for source, prefix in zip(sources, prefixes, strict=True):
        kind = kind_of(source)
        url = address(source)
        crawl = crawls.get(source.name, {})
        cycle = rounds.get(source.name, {})
        until, reason = _pause(alerts.get(source.name), moment)
        dropped = crawl.get("dropped") or {}
        out.append(
            SourceInfo(
                name=source.name,
                display_name=source.display_name,
                kind=kind,
                kind_label=KIND_LABELS.get(kind, kind),
                url=url,
                host=urlsplit(url).netloc or "本地目录",
                every_s=source.every,
                schedule=f"每 {source.every} 秒" if source.every else f"每轮（{settings.crawl_every_s} 秒）",
                last_started=crawl.get("started") or cycle.get("started"),
                last_finished=crawl.get("finished") or cycle.get("finished"),
                last_result=crawl.get("finish_reason"),
                last_published=int(crawl.get("published") or 0),
                last_pages=int(crawl.get("pages") or 0),
                last_errors=int(crawl.get("errors") or 0),
                last_dead_letters=int(crawl.get("dead_letters") or 0),
                last_dropped=dict(dropped) if isinstance(dropped, dict) else {},
                items=published.get(prefix, 0),
                paused=until is not None,
                paused_until=until,
                pause_reason=reason,
            )
        )
    return out


def _pause(entry: object, now: datetime) -> tuple[str | None, str | None]:
    if not isinstance(entry, dict):
        return None, None
    try:
        until = datetime.fromisoformat(str(entry["until"]))
    except (KeyError, ValueError):
        return None, None
    if until <= now:
        return None, None
    return until.isoformat(timespec="seconds"), str(entry.get("reason") or "") or None


def _rounds(state: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(rounds_path(state).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    crawled = data.get("crawled") if isinstance(data, dict) else None
    return {k: v for k, v in crawled.items() if isinstance(v, dict)} if isinstance(crawled, dict) else {}
