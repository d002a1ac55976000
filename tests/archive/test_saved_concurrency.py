"""Saved searches written at once, from threads and from processes, all survive."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from archive.saved import SavedSearch, SavedSearches


def _save(path: Path, name: str) -> None:
    SavedSearches(path).save(SavedSearch(name=name, query=f"停水 {name}"))


def test_forty_searches_saved_by_eight_threads_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "saved_searches.json"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: _save(path, f"查询{i}"), range(40)))
    assert {s.name for s in SavedSearches(path).all()} == {f"查询{i}" for i in range(40)}
    assert not list(tmp_path.glob("*.tmp"))  # no temporary file left behind


def test_searches_saved_by_four_processes_at_once_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "saved_searches.json"
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.starmap(_save, [(path, f"进程查询{i}") for i in range(24)])
    assert {s.name for s in SavedSearches(path).all()} == {f"进程查询{i}" for i in range(24)}
