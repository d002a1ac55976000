"""Top terms, top events, exports, saved searches and reindexing, on every backend where it applies."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from openpyxl import load_workbook

from archive.aggregations import top_events, top_terms
from archive.base import Archive, SearchQuery
from archive.elastic import ElasticArchive
from archive.errors import ArchiveError, QueryError
from archive.export import export
from archive.saved import SavedSearch, SavedSearches
from tests.archive.samples import enriched
from tests.archive.test_archive_contract import ids, load, search_ids


def test_top_terms_count_posts_per_word_without_the_query_words(archive: Archive) -> None:
    load(archive)
    terms = top_terms(archive, SearchQuery(text="停车"), size=3)
    assert terms == {"停车位": 2, "停车难": 2, "小区": 2}
    assert "停车" not in top_terms(archive, SearchQuery(text="停车"), size=100)
    assert top_terms(archive, SearchQuery(text="不存在的词语")) == {}


def test_top_events_come_with_their_riskiest_post(archive: Archive) -> None:
    load(archive)
    events = top_events(archive, SearchQuery(text="停车 OR 噪音"), size=2)
    assert [(event.event_id, event.count) for event in events] == [("ev-noise", 2), ("ev-parking", 2)]
    assert [event.top_post["id"] for event in events if event.top_post] == ids(
        "noise_hotline", "parking_weibo"
    )


def test_exports_stream_every_hit_to_csv_and_xlsx(archive: Archive, tmp_path: Path) -> None:
    load(archive)
    formula = enriched(
        "weibo", "城市观察", "9200", published_at="2024-05-02T08:00:00+08:00", text="=HYPERLINK(1)"
    )
    load(archive, [formula])
    seen: list[int] = []
    query = SearchQuery(text="NOT source:news", sort="risk")
    assert export(archive.scan(query, batch=3), tmp_path / "out.csv", progress=seen.append) == 9
    assert sum(seen) == 9
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["编号", "发布时间", "来源"]
    assert [row[0] for row in rows[1:]] == [hit["id"] for hit in archive.search(query).hits]
    assert "'=HYPERLINK(1)" in [row[5] for row in rows]  # a formula is neutralised
    assert export(archive.scan(query), tmp_path / "out.xlsx", limit=4) == 4
    sheet = load_workbook(tmp_path / "out.xlsx", read_only=True)["舆情数据"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert len(values) == 5 and values[1][0] == rows[1][0] and values[1][10] == 75
    with pytest.raises(ArchiveError, match="导出格式"):
        export(archive.scan(query), tmp_path / "out.json")


def test_a_reindex_keeps_every_post_searchable(archive: Archive) -> None:
    load(archive)
    before = [search_ids(archive, text=text) for text in ("停车", '"停车难"', "source:hotline")]
    assert archive.reindex() == 10
    archive.refresh()
    assert [search_ids(archive, text=text) for text in ("停车", '"停车难"', "source:hotline")] == before
    load(
        archive, [enriched("news", "日报", "4100", published_at="2024-05-20T08:00:00+08:00", text="停车新规")]
    )
    assert archive.count() == 11
    assert archive.count(SearchQuery(text="停车")) == 4


@pytest.mark.servers
def test_an_elastic_reindex_swaps_aliases_with_no_gap_for_readers(elastic_archive: ElasticArchive) -> None:
    load(elastic_archive)
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(elastic_archive.count())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert elastic_archive.reindex() == 10
    finally:
        done.set()
        reader.join()
    assert seen and set(seen) == {10}  # never fewer (a gap) nor more (both copies)
    assert elastic_archive.count() == 10


def test_saved_searches_are_named_checked_and_keep_their_alert_threshold(
    tmp_path: Path, archive: Archive
) -> None:
    load(archive)
    store = SavedSearches(tmp_path / "home" / "saved_searches.json")
    store.save(SavedSearch("停车投诉", "停车 sentiment:负面", alert_threshold=2))
    store.save(SavedSearch("高风险", "risk:>=60", sort="risk"))
    assert [item.name for item in store.all()] == ["停车投诉", "高风险"]
    assert [item.alert_threshold for item in SavedSearches(store.path).all()] == [2, None]
    assert archive.count(store.get("停车投诉").to_query()) == 2
    assert search_ids(archive, text=store.get("高风险").query, sort="risk") == ids(
        "food_hotline", "noise_hotline"
    )
    with pytest.raises(QueryError, match="已有名为“高风险”"):
        store.save(SavedSearch("高风险", "risk:>=80"))
    store.save(SavedSearch("高风险", "risk:>=80"), replace=True)
    assert store.get("高风险").query == "risk:>=80"
    with pytest.raises(QueryError, match="括号不成对"):
        store.save(SavedSearch("坏查询", "(停车"))
    store.delete("停车投诉")
    with pytest.raises(QueryError, match=r"没有名为“停车投诉”.*高风险"):
        store.get("停车投诉")
