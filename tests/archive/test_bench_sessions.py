"""``yuqing bench archive --sessions K`` runs end to end with tiny numbers (no figure is asserted)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from archive.embedded import EmbeddedArchive

bench = pytest.importorskip("bench.archive", reason="yuqing-devtools (devtools/) is not installed")

CORPUS = [
    bench.CorpusText("weibo", "", "我们小区停车太难了，希望政府管一管", (9, 0, 0)),
    bench.CorpusText("board", "物业收费问题", "物业收费标准不公开，请问一下找谁反映", (10, 30, 0)),
    bench.CorpusText("hotline", "噪音扰民", "工地夜间施工噪音扰民已经很久了，没有人管", (23, 5, 0)),
    bench.CorpusText("board", "拖欠工资", "公司拖欠工资三个月，是不是可以投诉", (14, 0, 0)),
]


def test_the_sessions_bench_runs_readers_a_monitor_and_a_writer_together(tmp_path: Path) -> None:
    archive = EmbeddedArchive(tmp_path / "bench-archive.db")
    bench.load(archive, bench.generate(CORPUS, 300, random.Random(1)), batch=100, workers=1)
    try:
        lines = bench.run_sessions(archive, CORPUS, sessions=2, seconds=1.5, write_rate=100, seed=1)
    finally:
        archive.close()
    kinds = {line["kind"]: line for line in lines[:-1]}
    assert {"monitor", "adversarial", "refused", "aggregation", "keyword", "phrase"} <= set(kinds)
    assert kinds["refused"]["refused"] == kinds["refused"]["queries"] > 0  # refused, never run
    assert all(line["p50_ms"] <= line["p95_ms"] <= line["max_ms"] for line in kinds.values())
    summary = lines[-1]
    assert summary["bench"] == "archive-sessions"
    assert summary["posts_at_start"] == 300
    assert summary["posts_at_end"] > 300  # the writer process indexed while the readers read
    assert isinstance(summary["monitor_max_ms"], float)
