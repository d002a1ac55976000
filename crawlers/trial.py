"""Try a source without publishing: crawl a page or two and show every field and where it came from.

:func:`try_source` runs the source's own spider with its own policy (robots.txt, pace, secrets) in a
fresh process (a Twisted reactor cannot restart, and the dashboard's process is long-lived), with one
collecting pipeline in place of the dead-letter, dedup and publish pipelines: nothing reaches the
broker, no crawl state is read or written (every page is fetched, no source is paused), no export file
is moved. Each item is built into its message as the crawl would (the same normalising and masking), so
the result also says whether it would be published and under which id, or why not.
:func:`format_trial` renders the result in Chinese (``yuqing sources try``); the 系统管理 page can show
:attr:`TrialResult.items` as a table instead.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.china_time import CHINA_TZ
from core.errors import MessageError
from core.masking import mask_name, mask_text
from core.messages import validate_raw
from core.redact import redact
from crawlers.catalog import KIND_LABELS, AnySource, address, find_source, kind_of
from crawlers.errors import CrawlerError, ItemRejected
from crawlers.items import BoardItem, FailedPage, HotlineItem, NewsItem, WeiboItem
from yuqing.settings import Settings

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

TRIAL_STAT = "yuqing/trial"
DEFAULT_LIMIT = 20
# Field labels as the pages show them, in the order they are printed.
BOARD_LABELS = {
    "native_id": "编号", "title": "标题", "published_at": "发布时间", "author": "留言人", "text": "正文",
    "status": "办理状态", "reply_unit": "答复单位", "replied_at": "答复时间", "reply_text": "答复内容",
}  # fmt: skip
NEWS_LABELS = {
    "native_id": "编号", "title": "标题", "published_at": "发布时间", "author": "作者", "outlet": "来源媒体",
    "text": "正文",
}  # fmt: skip
WEIBO_FIELDS = (
    ("id", "编号", "id"), ("created_at", "发布时间", "created_at"), ("text", "正文", "text"),
    ("user", "作者", "user.screen_name"), ("reposts_count", "转发数", "reposts_count"),
    ("comments_count", "评论数", "comments_count"), ("attitudes_count", "点赞数", "attitudes_count"),
    ("region_name", "地区", "region_name"),
)  # fmt: skip
# Reasons are stable English keys (logs, stats, dead letters); people read them in Chinese.
_REASON_WORDS = (
    ("bad record: ", "记录无法读取："),
    ("bad article: ", "文章无法读取："),
    ("bad entry: ", "订阅源条目无法读取："),
    ("bad row: ", "行无法读取："),
    ("unparseable ", "无法解析的"),
    ("missing link", "缺少链接"),
    ("missing id at ", "缺少编号，路径 "),
    ("missing ", "缺少"),
    ("not an object", "不是对象"),
    ("invalid JSON", "不是有效的 JSON"),
    ("invalid feed", "订阅源不是有效的 XML"),
    ("not an RSS or Atom feed", "不是 RSS 或 Atom 订阅源"),
    ("no records at ", "找不到记录列表，路径 "),
    ("no record at ", "找不到记录，路径 "),
    ("Forbidden by robots.txt", "被 robots.txt 禁止"),
    ("ignored: ", ""),
    ("timeout", "超时"),
    ("too large", "页面过大"),
    ("http ", "HTTP "),
    ("out of scope: another host", "超出范围：其他网站"),
    ("invalid message", "不符合消息格式"),
    (" (record ", "（第 "),
    ("(record ", "（第 "),
    (" (entry ", "（第 "),
    ("(entry ", "（第 "),
    (" (row ", "（第 "),
    ("(row ", "（第 "),
)
_FIELD_WORDS = {
    **{key: label for key, label in BOARD_LABELS.items()},
    **{key: label for key, label in NEWS_LABELS.items()},
}


@dataclass(frozen=True)
class TriedField:
    """One field of a tried item: its value (None: not found) and where it came from or was looked for."""

    name: str
    label: str
    value: str | None
    where: str


@dataclass(frozen=True)
class TriedItem:
    """One item of a try: its fields, and the post id it would be published under or why it would not.

    ``failed`` marks a page or record the crawl would dead-letter (``problem`` is the reason).
    """

    url: str
    fields: tuple[TriedField, ...] = ()
    post_id: str | None = None
    problem: str | None = None
    failed: bool = False
    published_at: str | None = None  # the message's time as read (ISO, China time)

    @property
    def publishable(self) -> bool:
        """Whether the crawl would publish this item."""
        return self.problem is None and not self.failed


@dataclass(frozen=True)
class TrialResult:
    """What trying a source found: its pages, time, how the crawl ended, and every item."""

    name: str
    kind: str
    url: str
    pages: int
    seconds: float
    finish_reason: str
    items: tuple[TriedItem, ...] = ()
    limit: int = DEFAULT_LIMIT

    @property
    def kind_label(self) -> str:
        """The kind in Chinese (网页留言板, JSON 留言板, 新闻, ...)."""
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def publishable(self) -> int:
        """Items the crawl would publish."""
        return sum(item.publishable for item in self.items)

    @property
    def rejected(self) -> int:
        """Items read but not publishable (a required field missing, a time that is not one)."""
        return sum(not item.publishable and not item.failed for item in self.items)

    @property
    def failed(self) -> int:
        """Pages and records the crawl would dead-letter."""
        return sum(item.failed for item in self.items)

    def rows(self) -> list[dict[str, Any]]:
        """One row per item with a column per field's value (a table for the 系统管理 page)."""
        out: list[dict[str, Any]] = []
        for number, item in enumerate(self.items, 1):
            row: dict[str, Any] = {
                "序号": number,
                "结果": "可以发布" if item.publishable else f"无法发布：{reason_text(item.problem or '')}",
                "帖子编号": item.post_id or "",
                "网址": item.url,
            }
            row.update({f.label: f.value if f.value is not None else "（未找到）" for f in item.fields})
            out.append(row)
        return out


class SourceNotFound(CrawlerError):
    """No configured source has the name asked for."""


def try_source(
    settings: Settings,
    name: str,
    *,
    pages: int = 1,
    limit: int = DEFAULT_LIMIT,
    polite: bool = True,
    secrets: Mapping[str, str] | None = None,
    timeout_s: float = 600,
) -> TrialResult:
    """Fetch ``pages`` list pages (or the feed, the API's first pages) of the source ``name`` and return
    at most ``limit`` items with every field, without publishing anything.

    Runs in a fresh process; raises :class:`SourceNotFound` for an unknown name and
    :class:`~crawlers.errors.SourceConfigError` for a sources file that cannot be used.
    """
    source = find_source(settings, name)
    if source is None:
        raise SourceNotFound(f"没有名为“{name}”的数据源（yuqing sources list 列出全部）")
    source = dataclasses.replace(source, max_pages=max(pages, 1))
    # A child of our own (``python -m crawlers.trial``), not multiprocessing's spawn: spawn re-imports
    # the parent's ``__main__``, which inside Streamlit (or after an AppTest) is a page script. The
    # job goes in on stdin (secrets never on the command line), the result comes back in a file.
    job = pickle.dumps((settings, source, max(limit, 1), polite, dict(secrets or {})))
    with tempfile.TemporaryDirectory(prefix="yuqing-trial-") as folder:
        out = Path(folder) / "result.pickle"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "crawlers.trial", str(out)],
                input=job, capture_output=True, timeout=timeout_s, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise CrawlerError(f"试采超过 {timeout_s:.0f} 秒未完成，已停止") from exc
        if done.returncode != 0 or not out.exists():
            tail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:]
            raise CrawlerError(f"试采进程失败（退出码 {done.returncode}）：{redact(' '.join(tail))}")
        result = pickle.loads(out.read_bytes())  # noqa: S301 - written by our own child just now
    if not isinstance(result, TrialResult):
        raise CrawlerError("试采进程返回了无法识别的结果")
    return result


def _trial_child(
    settings: Settings, source: AnySource, limit: int, polite: bool, secrets: dict[str, str]
) -> TrialResult:
    from scrapy.crawler import AsyncCrawlerProcess

    from crawlers.runner import SPIDERS
    from crawlers.settings import board_settings, crawl_settings

    policy = crawl_settings(settings, polite=polite, secrets=secrets, broker=None)
    policy.update(
        {
            "ITEM_PIPELINES": {"crawlers.trial.TrialPipeline": 100},
            # Not the inbox mover: a try moves no export file.
            "EXTENSIONS": {"crawlers.observe.DropReasonStats": 500},
            # No crawl state: every page is fetched (no incremental skip), no pause is recorded.
            "YUQING_SETTINGS": None,
            "YUQING_INCREMENTAL": False,
            "DOWNLOADER_MIDDLEWARES": {
                **policy["DOWNLOADER_MIDDLEWARES"],
                "crawlers.middlewares.SkipUnchangedMiddleware": None,
            },
            "CLOSESPIDER_ITEMCOUNT": limit,
            "LOG_LEVEL": "WARNING",
            "LOG_INSTALL_ROOT_HANDLER": not logging.getLogger().handlers,
        }
    )
    process = AsyncCrawlerProcess(policy)
    kind = kind_of(source)
    crawler = process.create_crawler(SPIDERS[kind])
    crawler.settings.setdict(board_settings(source), priority="spider")
    task = process.crawl(crawler, source=source)
    process.start(install_signal_handlers=threading.current_thread() is threading.main_thread())
    failure = task.exception() if task.done() and not task.cancelled() else None
    stats: dict[str, Any] = dict(crawler.stats.get_stats()) if crawler.stats is not None else {}
    reason = (
        f"failed to start: {failure}" if failure is not None else str(stats.get("finish_reason", "unknown"))
    )
    items = stats.get(TRIAL_STAT) or []
    return TrialResult(
        name=source.name,
        kind=kind,
        url=address(source),
        pages=int(stats.get("response_received_count", 0)) - int(stats.get("robotstxt/response_count", 0)),
        seconds=float(stats.get("elapsed_time_seconds", 0.0)),
        finish_reason=reason,
        items=tuple(items),
        limit=limit,
    )


class TrialPipeline:
    """Collects every item (and failed page) with its fields, building the message without sending it."""

    def __init__(self, crawler: Crawler, salt: str, limit: int = DEFAULT_LIMIT) -> None:
        self.crawler = crawler
        self.salt = salt
        self.limit = limit
        self.items: list[TriedItem] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Read the author salt (pseudonyms are the deployment's own) and the item limit."""
        limit = crawler.settings.getint("CLOSESPIDER_ITEMCOUNT") or DEFAULT_LIMIT
        return cls(crawler, crawler.settings.get("YUQING_AUTHOR_SALT") or "", limit)

    def process_item(self, item: Any) -> Any:
        """Record the item (up to the limit: requests in flight when it is reached still answer); pass it
        on, so the crawl counts it for ``CLOSESPIDER_ITEMCOUNT``."""
        if len(self.items) < self.limit:
            self.items.append(self.tried(item))
        return item

    def tried(self, item: Any) -> TriedItem:
        """The :class:`TriedItem` of a spider's item or failed page."""
        if isinstance(item, FailedPage):
            fields = (
                (TriedField("excerpt", "摘录", item.excerpt or None, "页面开头"),) if item.excerpt else ()
            )
            return TriedItem(item.url, fields, problem=item.reason, failed=True)
        from crawlers.pipelines import to_message

        source = getattr(self.crawler.spider, "source", None)
        try:
            message = to_message(item, source, salt=self.salt, fetched_at=datetime.now(CHINA_TZ))
            post = validate_raw(message)
        except ItemRejected as exc:
            return TriedItem(_url(item), item_fields(item, source), problem=exc.reason)
        except MessageError as exc:
            problem = f"invalid message: {exc.field}" if exc.field else "invalid message"
            return TriedItem(_url(item), item_fields(item, source), problem=problem)
        shown = item_fields(item, source)
        return TriedItem(_url(item), shown, post_id=post["id"], published_at=post["published_at"])

    def close_spider(self) -> None:
        """Hand the items to the caller through the crawl's stats."""
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(TRIAL_STAT, list(self.items))


def _url(item: Any) -> str:
    if isinstance(item, HotlineItem):
        return item.origin
    return str(getattr(item, "url", "-"))


def item_fields(item: Any, source: object) -> tuple[TriedField, ...]:
    """Every field of an item with where it came from (a selector, a JSON path, the feed, a column).

    Values are shown masked as the message will carry them (phone and ID numbers, private names).
    """
    return tuple(
        dataclasses.replace(field, value=_masked(field, item)) if field.value is not None else field
        for field in _fields(item, source)
    )


def _masked(field: TriedField, item: Any) -> str | None:
    value = mask_text(field.value or "")
    private = {"author", "来电人"} if isinstance(item, BoardItem | HotlineItem) else set()
    return mask_name(value) if field.name in private else value


def _fields(item: Any, source: object) -> tuple[TriedField, ...]:
    if isinstance(item, BoardItem | NewsItem):
        labels = BOARD_LABELS if isinstance(item, BoardItem) else NEWS_LABELS
        trace = item.trace or {}
        out = []
        for name, label in labels.items():
            value = getattr(item, name)
            where = trace.get(name)
            if where is None:
                where = "未配置" if value is None else "列表页"
            out.append(TriedField(name, label, value, where))
        return tuple(out)
    if isinstance(item, HotlineItem):
        api = getattr(source, "kind", "") == "hotline-api"
        fields = [
            TriedField(name, name, value, "接口记录" if api else "导出文件的列")
            for name, value in item.fields.items()
        ]
        fields += [
            TriedField(name, f"其他：{name}", value, "未识别的字段，保存在 raw.extra")
            for name, value in (item.extra or {}).items()
        ]
        return tuple(fields)
    if isinstance(item, WeiboItem):
        out = []
        for key, label, path in WEIBO_FIELDS:
            found: object = item.mblog
            for part in path.split("."):
                found = found.get(part) if isinstance(found, dict) else None
            text = None if found is None or found == "" else str(found)
            out.append(TriedField(key, label, text, f"mblog.{path}（{item.query}）"))
        return tuple(out)
    return ()


def reason_text(reason: str) -> str:
    """A drop or dead-letter reason in Chinese (the English key is kept by the caller where it helps)."""
    text = reason
    for english, chinese in _REASON_WORDS:
        text = text.replace(english, chinese)
    text = re.sub(r"（第 (\d+)\)", r"（第 \1 条）", text)
    for key, label in sorted(_FIELD_WORDS.items(), key=lambda pair: -len(pair[0])):
        text = re.sub(rf"(?<![A-Za-z0-9_.]){re.escape(key)}(?![A-Za-z0-9_.])", label, text)
    return text


def _shown(value: str, *, full: bool, width: int = 70) -> str:
    line = " ⏎ ".join(part.strip() for part in value.splitlines() if part.strip())
    if full or len(line) <= width:
        return line
    return f"{line[:width]}…（共 {len(value)} 字）"


def format_trial(result: TrialResult, *, full: bool = False) -> str:
    """The result as the command prints it: a block per item, every field with its source, then totals."""
    lines = [
        f"试抓数据源 {result.name}（{result.kind_label}）：{result.url}",
        f"只抓取、不发布：抓取 {result.pages} 个页面，用时 {result.seconds:.1f} 秒，"
        f"结束原因：{result.finish_reason}。",
    ]
    if not result.items:
        lines.append("没有读到任何条目：请检查地址、列表选择器或记录路径。")
    width = max((len(f.label) for item in result.items for f in item.fields), default=4)
    for number, item in enumerate(result.items, 1):
        lines.append("")
        if item.failed:
            lines.append(f"【第 {number} 条】页面或记录失败（将进入死信）：{reason_text(item.problem or '')}")
            lines.append(f"  原因（原文）：{item.problem}")
        elif item.publishable:
            lines.append(f"【第 {number} 条】可以发布，帖子编号 {item.post_id}")
        else:
            lines.append(f"【第 {number} 条】无法发布：{reason_text(item.problem or '')}（{item.problem}）")
        lines.append(f"  网址：{item.url}")
        for field in item.fields:
            label = field.label + "　" * (width - len(field.label))
            if field.value is not None and field.value.strip():
                read = (
                    f"（读作 {item.published_at}）"
                    if field.name == "published_at" and item.published_at
                    else ""
                )
                lines.append(f"  {label}  {_shown(field.value, full=full)}{read}  ← {field.where}")
            elif field.where == "未配置":
                lines.append(f"  {label}  （未配置）")
            else:
                lines.append(f"  {label}  ✗ 未找到（查找位置：{field.where}）")
    lines.append("")
    summary = (
        f"合计：{result.publishable} 条可以发布，{result.rejected} 条无法发布，"
        f"{result.failed} 个页面或记录失败。"
    )
    if len(result.items) >= result.limit:
        summary += f"已达到条数上限 {result.limit}（--limit），其余未抓取。"
    lines.append(summary)
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    """The child of :func:`try_source`: the job on stdin, the pickled :class:`TrialResult` to ``argv[0]``."""
    # Run as ``python -m``, this module is ``__main__``: the result is built by the importable module so
    # that it pickles as ``crawlers.trial.TrialResult``, which the parent can load.
    from crawlers.trial import _trial_child as trial

    settings, source, limit, polite, secrets = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - our parent
    result = trial(settings, source, limit, polite, secrets)
    Path(argv[0]).write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
