"""The archive contract: the same posts give the same hits, totals, order and shares on every backend."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from archive.base import MAX_WINDOW, Archive, SearchQuery
from archive.errors import DocumentRejected, QueryError
from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from tests.archive.samples import dataset, enriched

POSTS = dataset()
# Every post, newest first; parking_news and bbq_weibo share a moment and break the tie by id.
NEWEST_FIRST = [
    "thanks_weibo",
    "food_hotline",
    "parking_news",
    "bbq_weibo",
    "noise_news",
    "bikes_board",
    "noise_hotline",
    "parking_weibo",
    "parking_board",
    "housing_board",
]


def ids(*names: str) -> list[str]:
    """Post ids of sample nicknames, in the order given."""
    return [POSTS[name]["id"] for name in names]


def hit_ids(posts: Iterable[EnrichedPost]) -> list[str]:
    """The ids of hits, in order."""
    return [post["id"] for post in posts]


def load(archive: Archive, posts: Iterable[EnrichedPost] | None = None) -> None:
    """Index posts (the whole sample set by default) and make them searchable."""
    archive.index(list(posts if posts is not None else dataset().values()))
    archive.refresh()


def search_ids(archive: Archive, **query: object) -> list[str]:
    """Ids of the first page of a search."""
    return hit_ids(archive.search(SearchQuery(**query)).hits)  # type: ignore[arg-type]


def test_an_empty_archive_finds_nothing(archive: Archive) -> None:
    assert archive.count() == 0
    assert archive.search(SearchQuery(text="停车")) == archive.search(SearchQuery())
    assert archive.search(SearchQuery()).total == 0
    assert archive.shares("source") == {}
    assert archive.get(POSTS["parking_board"]["id"]) is None


def test_every_post_is_listed_newest_first_with_ties_by_id(archive: Archive) -> None:
    load(archive)
    result = archive.search(SearchQuery(size=20))
    assert result.total == 10
    assert hit_ids(result.hits) == ids(*NEWEST_FIRST)
    assert archive.count() == 10


def test_a_post_comes_back_exactly_as_indexed(archive: Archive) -> None:
    load(archive)
    for post in dataset().values():
        assert archive.get(post["id"]) == post
    assert archive.search(SearchQuery(text="过期牛奶")).hits == [POSTS["food_hotline"]]
    assert archive.get("board:市长信箱:nope") is None


def test_text_matches_words_not_characters(archive: Archive) -> None:
    load(archive)
    # 停车位 is cut into 停车 / 车位 / 停车位; parking_news has 停车 and 泊位, never 车位.
    assert search_ids(archive, text="停车位") == ids("parking_weibo", "parking_board")
    # thanks_weibo holds 施 and 工 side by side (措施工作) but not the word 施工.
    assert search_ids(archive, text="施工") == ids("noise_news", "noise_hotline")


def test_every_word_of_the_text_must_match_in_title_or_text(archive: Archive) -> None:
    load(archive)
    assert search_ids(archive, text="停车 老城区") == ids("parking_weibo")
    # 亟待解决 is only in parking_board's title, 协调 only in its text.
    assert search_ids(archive, text="亟待解决，协调！") == ids("parking_board")
    assert search_ids(archive, text="停车 烧烤") == []
    assert archive.count(SearchQuery(text="停车")) == 3


def test_text_with_nothing_searchable_matches_nothing(archive: Archive) -> None:
    load(archive)
    assert archive.search(SearchQuery(text="！？……")).total == 0
    assert archive.count(SearchQuery(text=" ，。")) == 0
    assert archive.count(SearchQuery(text="   ")) == 10  # blank text is no text at all


def test_filters_must_all_match_exactly(archive: Archive) -> None:
    load(archive)
    assert search_ids(archive, filters={"source": "hotline"}) == ids("food_hotline", "noise_hotline")
    negative_traffic = {"sentiment": "negative", "topic": "交通出行"}
    assert search_ids(archive, filters=negative_traffic) == ids(
        "bikes_board", "parking_weibo", "parking_board"
    )
    assert search_ids(archive, filters={"event": "ev-noise"}) == ids("noise_news", "noise_hotline")
    assert search_ids(archive, filters={"reply_status": "replied", "region": "海淀区"}) == ids("bikes_board")
    assert search_ids(archive, filters={"appeal_type": "举报", "channel": "12345"}) == ids("food_hotline")
    assert search_ids(archive, text="停车", filters={"source": "news"}) == ids("parking_news")
    assert archive.count(SearchQuery(filters={"region": "朝阳"})) == 0


def test_time_range_is_half_open_in_china_time(archive: Archive) -> None:
    load(archive)
    june = datetime(2024, 6, 1, tzinfo=CHINA_TZ)
    assert search_ids(archive, since=june, until=datetime(2024, 7, 1, tzinfo=CHINA_TZ)) == ids(
        "thanks_weibo", "food_hotline", "parking_news", "bbq_weibo", "noise_news"
    )
    assert search_ids(archive, until=june, filters={"source": "board"}) == ids(
        "bikes_board", "parking_board", "housing_board"
    )
    # until is exclusive and since inclusive, to the second; a naive time is China time.
    half_past = datetime(2024, 6, 1, 0, 30)
    assert search_ids(archive, since=june, until=half_past) == []
    assert search_ids(archive, since=half_past, until=half_past + timedelta(seconds=1)) == ids("noise_news")
    utc = datetime(2024, 5, 31, 16, 30, tzinfo=UTC)
    assert search_ids(archive, since=utc, until=utc + timedelta(hours=1)) == ids("noise_news")


def test_min_risk_and_risk_order(archive: Archive) -> None:
    load(archive)
    # parking_weibo and bbq_weibo tie at 55: the newer comes first.
    assert search_ids(archive, min_risk=50, sort="risk") == ids(
        "food_hotline", "noise_hotline", "bbq_weibo", "parking_weibo"
    )
    assert search_ids(archive, min_risk=50) == ids(
        "food_hotline", "bbq_weibo", "noise_hotline", "parking_weibo"
    )
    assert archive.count(SearchQuery(min_risk=76)) == 0


def test_relevance_puts_the_stronger_match_first(archive: Archive) -> None:
    load(archive)
    # noise_hotline has 噪音 in its title and text, noise_news only once in its text.
    assert search_ids(archive, text="噪音", sort="relevance") == ids("noise_hotline", "noise_news")
    assert search_ids(archive, text="噪音") == ids("noise_news", "noise_hotline")
    # Without text there is nothing to rank: newest first.
    assert search_ids(archive, sort="relevance", size=3) == ids(*NEWEST_FIRST[:3])


def test_pages_partition_the_results(archive: Archive) -> None:
    load(archive)
    pages = [archive.search(SearchQuery(size=3, offset=offset)) for offset in (0, 3, 6, 9, 12)]
    assert [page.total for page in pages] == [10] * 5
    assert [len(page.hits) for page in pages] == [3, 3, 3, 1, 0]
    assert [post_id for page in pages for post_id in hit_ids(page.hits)] == ids(*NEWEST_FIRST)
    assert archive.search(SearchQuery(size=0)) == archive.search(SearchQuery(size=0, offset=5))
    assert archive.search(SearchQuery(size=0)).total == 10


def test_shares_count_values_largest_first_with_ties_by_value(archive: Archive) -> None:
    load(archive)
    assert archive.shares("source") == {"board": 3, "weibo": 3, "hotline": 2, "news": 2}
    assert list(archive.shares("source")) == ["board", "weibo", "hotline", "news"]
    assert archive.shares("sentiment", SearchQuery(text="停车")) == {"negative": 2, "positive": 1}
    assert archive.shares("topic", size=2) == {"交通出行": 4, "环境保护": 3}
    # Posts without a region are not counted.
    assert archive.shares("region") == {"朝阳区": 3, "海淀区": 2}
    assert archive.shares("event", SearchQuery(filters={"topic": "环境保护"})) == {
        "ev-noise": 2,
        "ev-2003": 1,
    }
    assert archive.shares("reply_status", SearchQuery(since=datetime(2024, 6, 1))) == {"pending": 1}


def test_reindexing_a_post_replaces_it(archive: Archive) -> None:
    load(archive)
    posts = dataset()
    changed = posts["parking_board"]
    changed["text"] = "问题已经反映给物业，物业答复下周划线增加车位。"
    changed["risk"] = {"score": 90, "reasons": ["escalated"]}
    load(archive, [changed, posts["noise_hotline"]])
    assert archive.count() == 10
    assert archive.get(changed["id"]) == changed
    assert search_ids(archive, text="物业") == ids("parking_board")
    assert search_ids(archive, text="协调") == []
    assert search_ids(archive, min_risk=80) == ids("parking_board")


def test_reindexing_a_post_with_a_new_month_moves_it(archive: Archive) -> None:
    load(archive)
    moved = dataset()["housing_board"]
    moved["published_at"] = "2024-07-02T09:00:00+08:00"
    load(archive, [moved])
    assert archive.count() == 10
    assert search_ids(archive, text="公租房") == ids("housing_board")
    assert archive.count(SearchQuery(until=datetime(2024, 5, 1))) == 0
    assert search_ids(archive, size=1) == ids("housing_board")


def test_a_batch_repeating_an_id_keeps_the_last_copy(archive: Archive) -> None:
    first = dataset()["thanks_weibo"]
    second = dataset()["thanks_weibo"]
    second["text"] = "路灯修好了，谢谢！"
    load(archive, [first, second])
    assert archive.count() == 1
    assert archive.get(first["id"]) == second


def test_an_unknown_field_is_a_query_error(archive: Archive) -> None:
    load(archive)
    with pytest.raises(QueryError, match=r"未知字段“author”.*sentiment"):
        archive.search(SearchQuery(filters={"author": "市民"}))
    with pytest.raises(QueryError, match="未知字段"):
        archive.count(SearchQuery(filters={"sentiment.label": "negative"}))
    with pytest.raises(QueryError, match="未知字段“likes”"):
        archive.shares("likes")


def test_impossible_pages_and_sorts_are_query_errors(archive: Archive) -> None:
    with pytest.raises(QueryError, match="翻页太深"):
        archive.search(SearchQuery(offset=MAX_WINDOW - 5, size=10))
    with pytest.raises(QueryError, match="负数"):
        archive.search(SearchQuery(size=-1))
    with pytest.raises(QueryError, match="未知的排序方式"):
        archive.search(SearchQuery(sort="oldest"))  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="分组数量"):
        archive.shares("source", size=0)


def test_a_post_that_cannot_be_stored_is_rejected_by_id(archive: Archive) -> None:
    good = dataset()["food_hotline"]
    bad_risk = enriched("weibo", "城市观察", "9001", published_at="2024-05-01T08:00:00+08:00", text="坏数据")
    bad_risk["risk"] = {"score": "high", "reasons": []}  # type: ignore[typeddict-item]
    bad_time = enriched("weibo", "城市观察", "9002", published_at="昨天下午", text="坏时间")
    with pytest.raises(DocumentRejected, match=r"weibo:城市观察:9001.*risk\.score") as caught:
        archive.index([good, bad_risk, bad_time])
    assert caught.value.rejected.keys() == {"weibo:城市观察:9001", "weibo:城市观察:9002"}
    assert caught.value.post_id == "weibo:城市观察:9001"
    archive.refresh()
    assert archive.count() == 0  # the batch was checked before anything was written


def test_a_time_without_offset_is_china_time_and_stored_with_one(archive: Archive) -> None:
    post = enriched("board", "市长信箱", "1009", published_at="2024-06-01 07:30:00", text="凌晨垃圾清运噪音")
    load(archive, [post])
    assert search_ids(archive, since=datetime(2024, 6, 1, 7, 30), until=datetime(2024, 6, 1, 7, 31)) == [
        post["id"]
    ]
    stored = archive.get(post["id"])
    assert stored is not None
    assert (stored["published_at"], stored["fetched_at"]) == ("2024-06-01T07:30:00+08:00",) * 2
