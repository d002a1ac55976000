"""``yuqing search`` and ``yuqing archive``: search, export, trends, saved searches and reindexing.

Every message a user sees is Chinese; a bad query prints what is wrong and points at where, never
a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yuqing.commands import Subparsers
from yuqing.settings import Settings

if TYPE_CHECKING:
    from archive.base import Archive, SearchQuery

SORTS = ["time", "relevance", "risk"]


def _guarded(
    action: Callable[[Settings, argparse.Namespace], int],
) -> Callable[[Settings, argparse.Namespace], int]:
    """Turn archive errors into a Chinese message and exit status 2 (bad query) or 1 (archive)."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        from archive.errors import ArchiveError, QueryError

        try:
            return action(settings, args)
        except QueryError as exc:
            print(f"查询有误：{exc.message}", file=sys.stderr)
            text = getattr(args, "query", None)
            if exc.position is not None and isinstance(text, str) and text:
                # The caret lines up under a character of the query (full-width counts as two).
                width = sum(2 if ord(char) > 0x2E80 else 1 for char in text[: exc.position])
                print(f"  {text}\n  {' ' * width}^", file=sys.stderr)
            return 2
        except ArchiveError as exc:
            print(f"归档库出错：{exc}", file=sys.stderr)
            return 1

    return run


def _open(settings: Settings) -> Archive:
    from yuqing.backends import make_archive

    return make_archive(settings)


def _query(settings: Settings, args: argparse.Namespace, **overrides: Any) -> SearchQuery:
    from archive.base import SearchQuery

    if getattr(args, "saved", None):
        from yuqing.backends import make_saved_searches

        saved = make_saved_searches(settings).get(args.saved)
        args.query = saved.query
        return saved.to_query(**overrides)
    return SearchQuery(text=args.query or "", sort=getattr(args, "sort", "time"), **overrides)


def _search(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    archive = _open(settings)
    try:
        if args.export is not None:
            return _export(archive, _query(settings, args), args.export, args.limit)
        query = _query(settings, args, size=args.size, after=args.after)
        result = archive.search(query)
    finally:
        archive.close()
    print(json.dumps({"total": result.total, "next_after": result.next_after}, ensure_ascii=False))
    for hit, marks in zip(result.hits, result.highlights, strict=False):
        print(json.dumps({**hit, "_highlight": asdict(marks)}, ensure_ascii=False))
    return 0


def _export(archive: Archive, query: SearchQuery, path: Path, limit: int) -> int:
    from tqdm import tqdm

    from archive.export import export

    total = min(archive.count(query), limit)
    with tqdm(total=total, unit="条", desc="导出", file=sys.stderr) as bar:
        written = export(archive.scan(query), path, limit=limit, progress=_updater(bar))
    print(json.dumps({"exported": written, "path": str(path)}, ensure_ascii=False))
    return 0


def _updater(bar: Any) -> Callable[[int], None]:
    def update(rows: int) -> None:
        bar.update(rows)

    return update


def _trend(settings: Settings, args: argparse.Namespace) -> int:
    archive = _open(settings)
    try:
        buckets = archive.histogram(_query(settings, args), args.interval)
    finally:
        archive.close()
    for start, count in buckets:
        print(json.dumps({"start": start.isoformat(), "count": count}))
    return 0


def _shares(settings: Settings, args: argparse.Namespace) -> int:
    archive = _open(settings)
    try:
        counts = archive.shares(args.field, _query(settings, args), size=args.size)
    finally:
        archive.close()
    print(json.dumps(counts, ensure_ascii=False))
    return 0


def _terms(settings: Settings, args: argparse.Namespace) -> int:
    from archive.aggregations import top_events, top_terms

    archive = _open(settings)
    try:
        query = _query(settings, args)
        if args.events:
            for event in top_events(archive, query, size=args.size):
                post = event.top_post
                title = "" if post is None else (post.get("title") or post.get("text", "")[:40])
                print(
                    json.dumps(
                        {"event": event.event_id, "count": event.count, "post": title}, ensure_ascii=False
                    )
                )
        else:
            terms = top_terms(archive, query, size=args.size)
            print(json.dumps(terms, ensure_ascii=False))
    finally:
        archive.close()
    return 0


def _saved(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from archive.saved import SavedSearch
    from core.china_time import now_iso
    from yuqing.backends import make_saved_searches

    store = make_saved_searches(settings)
    if args.saved_command == "add":
        item = SavedSearch(args.name, args.query, args.sort, args.alert, created_at=now_iso())
        store.save(item, replace=args.replace)
        print(f"已保存查询“{args.name}”")
    elif args.saved_command == "delete":
        store.delete(args.name)
        print(f"已删除查询“{args.name}”")
    else:
        for item in store.all():
            print(json.dumps(asdict(item), ensure_ascii=False))
    return 0


def _reindex(settings: Settings, args: argparse.Namespace) -> int:
    archive = _open(settings)
    try:
        count = archive.reindex()
    finally:
        archive.close()
    print(json.dumps({"reindexed": count}))
    return 0


def _add_query(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    parser.add_argument(
        "query", nargs="?" if optional else None, default="", help="查询语句，见 docs/search.md"
    )
    parser.add_argument("--saved", metavar="NAME", help="使用已保存的检索代替 QUERY")


def register(sub: Subparsers) -> None:
    """Add ``search`` and ``archive``."""
    search = sub.add_parser("search", help="用检索语言查询舆情库（见 docs/search.md）")
    _add_query(search, optional=True)
    search.add_argument("--size", type=int, default=10)
    search.add_argument("--sort", choices=SORTS, default="time")
    search.add_argument("--after", help="上一页返回的 next_after 游标")
    search.add_argument("--export", type=Path, help="把全部命中导出到 .csv 或 .xlsx 文件")
    search.add_argument("--limit", type=int, default=1_000_000, help="最多导出的行数")
    search.set_defaults(handler=_guarded(_search))

    archive = sub.add_parser("archive", help="舆情库分析、保存的检索与维护")
    area = archive.add_subparsers(dest="archive_command", required=True)
    trend = area.add_parser("trend", help="按北京时间分桶的声量趋势")
    _add_query(trend, optional=True)
    trend.add_argument("--interval", choices=["hour", "day", "week"], default="day")
    trend.set_defaults(handler=_guarded(_trend))
    shares = area.add_parser("shares", help="某字段各取值的帖子数")
    shares.add_argument("field", choices=["topic", "source", "sentiment", "region", "channel", "appeal_type"])
    _add_query(shares, optional=True)
    shares.add_argument("--size", type=int, default=20)
    shares.set_defaults(handler=_guarded(_shares))
    terms = area.add_parser("top", help="命中帖子的高频词（或 --events 热点事件）")
    _add_query(terms, optional=True)
    terms.add_argument("--events", action="store_true")
    terms.add_argument("--size", type=int, default=20)
    terms.set_defaults(handler=_guarded(_terms))
    saved = area.add_parser("saved", help="命名检索，可作为预警规则")
    saved_area = saved.add_subparsers(dest="saved_command", required=True)
    add = saved_area.add_parser("add", help="以名称保存检索")
    add.add_argument("name")
    add.add_argument("query")
    add.add_argument("--sort", choices=SORTS, default="time")
    add.add_argument("--alert", type=int, metavar="N", help="新命中达到 N 条时预警")
    add.add_argument("--replace", action="store_true")
    delete = saved_area.add_parser("delete", help="删除保存的检索")
    delete.add_argument("name")
    saved_area.add_parser("list", help="以 JSON 行列出保存的检索")
    saved.set_defaults(handler=_guarded(_saved))
    reindex = area.add_parser("reindex", help="重建索引（映射或词典变更后）")
    reindex.set_defaults(handler=_guarded(_reindex))
