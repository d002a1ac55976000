"""Saved searches: named queries kept in the embedded home, reusable as searches and alert rules.

A file of JSON (``saved_searches.json`` under the service's home), written whole to a temporary
file of its own and renamed, so a reader never sees half of it. Every change reads, edits and writes
under an exclusive lock (``flock`` on a lock file beside it), so two analysts saving at once, from
two sessions or two processes, both keep their search. A query is parsed when saved: a saved search
is always one the archive can run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from archive.base import SORT_ORDERS, SearchQuery, SortOrder
from archive.errors import ArchiveError, QueryError
from archive.querylang import parse

# flock is per open file description: two threads of one process need a lock of their own as well.
_THREAD_LOCK = threading.RLock()


@dataclass(frozen=True)
class SavedSearch:
    """A named query; ``alert_threshold`` makes it an alert rule (fire at that many new posts)."""

    name: str
    query: str
    sort: SortOrder = "time"
    alert_threshold: int | None = None
    created_at: str = ""

    def to_query(self, **overrides: Any) -> SearchQuery:
        """The :class:`SearchQuery` of this saved search; ``overrides`` set since, size and so on."""
        return SearchQuery(text=self.query, sort=self.sort, **overrides)


class SavedSearches:
    """The saved searches in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the file's lock: a thread lock in this process, ``flock`` across processes."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with _THREAD_LOCK, lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load(self) -> dict[str, SavedSearch]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {item["name"]: SavedSearch(**item) for item in data["searches"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise ArchiveError(f"保存的查询文件 {self.path} 已损坏：{exc}") from exc

    def _store(self, searches: dict[str, SavedSearch]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"version": 1, "searches": [asdict(item) for item in searches.values()]}
        # A temporary name of its own: two writers never share (and clobber) one ``.tmp`` file.
        handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps(body, ensure_ascii=False, indent=2))
                out.flush()
                os.fsync(out.fileno())
            Path(name).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(name).unlink()
            raise

    def save(self, search: SavedSearch, *, replace: bool = False) -> None:
        """Store ``search``; an invalid query or (without ``replace``) a taken name is a QueryError."""
        if not search.name.strip():
            raise QueryError("查询名称不能为空")
        if search.sort not in SORT_ORDERS:
            raise QueryError(f"未知的排序方式“{search.sort}”；可选：{'、'.join(SORT_ORDERS)}")
        if search.alert_threshold is not None and search.alert_threshold < 1:
            raise QueryError("预警阈值至少为 1")
        parse(search.query)  # raises QueryError with the position of the fault
        with self._locked():
            searches = self._load()
            if search.name in searches and not replace:
                raise QueryError(f"已有名为“{search.name}”的查询；如需覆盖请使用替换")
            searches[search.name] = search
            self._store(searches)

    def get(self, name: str) -> SavedSearch:
        """The saved search called ``name``; a QueryError naming the saved ones if there is none."""
        searches = self._load()
        if name not in searches:
            known = "、".join(searches) or "（无）"
            raise QueryError(f"没有名为“{name}”的保存查询；已保存：{known}")
        return searches[name]

    def all(self) -> list[SavedSearch]:
        """Every saved search, in the order they were saved."""
        return list(self._load().values())

    def delete(self, name: str) -> None:
        """Remove the saved search called ``name`` (a QueryError if there is none)."""
        with self._locked():
            searches = self._load()
            self.get(name)
            del searches[name]
            self._store(searches)
