"""The query language, highlights, cursors and histograms: the same answers on every backend."""

from __future__ import annotations

from datetime import datetime

import pytest

from archive.base import Archive, SearchQuery
from archive.buckets import STEP_MS, bucket_start
from archive.documents import epoch_ms
from archive.errors import QueryError
from core.china_time import CHINA_TZ
from tests.archive.samples import enriched
from tests.archive.test_archive_contract import NEWEST_FIRST, ids, load, search_ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("停车 OR 烧烤", ["parking_news", "bbq_weibo", "parking_weibo", "parking_board"]),
        ("停车 AND 老城区", ["parking_weibo"]),
        ("停车 NOT 小区", ["parking_weibo"]),
        ("停车 -小区", ["parking_weibo"]),
        ("(噪音 OR 油烟) -施工", ["bbq_weibo"]),
        ("NOT source:weibo -source:board", ["food_hotline", "parking_news", "noise_news", "noise_hotline"]),
        ("-region:朝阳区 region:海淀区 OR 公租房", ["bikes_board", "noise_hotline", "housing_board"]),
        ("source:weibo sentiment:负面 risk:>=55", ["bbq_weibo", "parking_weibo"]),
        ("来源：微博 情感:negative 风险:55..55", ["bbq_weibo", "parking_weibo"]),
        ("risk:<10", ["thanks_weibo", "parking_news"]),
        ("time:2024-05 reply:pending", ["noise_hotline", "parking_board"]),
        ("time:2024-05-31..2024-06-01 -source:weibo", ["parking_news", "noise_news", "bikes_board"]),
        ("time:>=2024-06-15", ["thanks_weibo", "food_hotline"]),
        ("topic:交通出行 appeal:建议", ["bikes_board"]),
        ("event:ev-noise 审批", ["noise_news"]),
        ("channel:12345 (过期 OR 噪音)", ["food_hotline", "noise_hotline"]),
    ],
)
def test_the_query_language_selects_the_same_posts(archive: Archive, text: str, expected: list[str]) -> None:
    load(archive)
    assert search_ids(archive, text=text) == ids(*expected)
    assert archive.count(SearchQuery(text=text)) == len(expected)


def test_a_phrase_must_occur_as_written(archive: Archive) -> None:
    load(archive)
    # Both posts hold the words 停车 and 难; only these hold them side by side.
    assert search_ids(archive, text='"停车难"') == ids("parking_weibo", "parking_board")
    assert search_ids(archive, text='"车位严重不足"') == ids("parking_board")
    assert search_ids(archive, text='"不足车位"') == []
    assert search_ids(archive, text='"停车难" OR "油烟太大"') == ids(
        "bbq_weibo", "parking_weibo", "parking_board"
    )
    assert search_ids(archive, text='停车 -"停车难"') == ids("parking_news")
    assert archive.count(SearchQuery(text='"！？"')) == 0


def test_highlights_mark_matched_words_with_spans_into_the_original_text(archive: Archive) -> None:
    load(archive)
    result = archive.search(SearchQuery(text='噪音 OR "过期牛奶" -油烟', sort="risk"))
    assert ids("food_hotline", "noise_hotline", "noise_news") == [hit["id"] for hit in result.hits]
    food, noise, _ = result.highlights
    text = result.hits[0]["text"]
    assert [text[start:end] for start, end in food.text] == ["过期牛奶"]
    title = result.hits[1]["title"]
    assert [title[start:end] for start, end in noise.title] == ["噪音"]


def test_cursors_page_through_every_sort_without_offsets(archive: Archive) -> None:
    load(archive)
    for sort, expected in [("time", NEWEST_FIRST), ("risk", None), ("relevance", None)]:
        query = SearchQuery(text="停车 OR 噪音 OR 感谢" if sort == "relevance" else "", sort=sort, size=3)  # type: ignore[arg-type]
        whole = [
            hit["id"] for hit in archive.search(SearchQuery(text=query.text, sort=query.sort, size=50)).hits
        ]
        seen: list[str] = []
        page = archive.search(query)
        while True:
            seen.extend(hit["id"] for hit in page.hits)
            if page.next_after is None:
                break
            page = archive.search(
                SearchQuery(text=query.text, sort=query.sort, size=3, after=page.next_after)
            )
        assert seen == whole
        if expected is not None:
            assert seen == ids(*expected)
    assert [post["id"] for post in archive.scan(SearchQuery(sort="risk"), batch=4)] == [
        hit["id"] for hit in archive.search(SearchQuery(sort="risk", size=50)).hits
    ]


def test_a_bad_cursor_is_a_query_error(archive: Archive) -> None:
    load(archive)
    page = archive.search(SearchQuery(size=2))
    assert page.next_after is not None
    with pytest.raises(QueryError, match="排序方式不符"):
        archive.search(SearchQuery(size=2, sort="risk", after=page.next_after))
    with pytest.raises(QueryError, match="游标无效"):
        archive.search(SearchQuery(size=2, after="not a cursor"))


def test_volume_is_counted_in_china_time_buckets(archive: Archive) -> None:
    load(archive)
    days = archive.histogram(SearchQuery(text="time:2024-05-31..2024-06-01"), "day")
    assert days == [(datetime(2024, 5, 31, tzinfo=CHINA_TZ), 1), (datetime(2024, 6, 1, tzinfo=CHINA_TZ), 3)]
    weeks = archive.histogram(SearchQuery(filters={"event": "ev-parking"}), "week")
    assert weeks == [(datetime(2024, 4, 29, tzinfo=CHINA_TZ), 2)]  # Friday 3 May is in Monday 29 April's week
    hours = archive.histogram(SearchQuery(filters={"event": "ev-parking"}), "hour")
    assert (hours[0], hours[-1], len(hours)) == (
        (datetime(2024, 5, 3, 9, tzinfo=CHINA_TZ), 1),
        (datetime(2024, 5, 3, 21, tzinfo=CHINA_TZ), 1),
        13,
    )
    assert sum(count for _, count in archive.histogram(None, "week")) == 10
    assert archive.histogram(SearchQuery(text="不存在的词语")) == []
    with pytest.raises(QueryError, match="时间粒度"):
        archive.histogram(None, "month")  # type: ignore[arg-type]


def test_a_bad_query_is_a_query_error_with_its_position(archive: Archive) -> None:
    for text, message, position in [
        ('"停车', "引号不成对", 0),
        ("(停车 OR 噪音", "括号不成对", 0),
        ("author:张三", "未知字段“author”", 0),
        ("停车 risk:80..60", "写反了", 8),
    ]:
        with pytest.raises(QueryError, match=message) as caught:
            archive.search(SearchQuery(text=text))
        assert caught.value.position == position


def test_a_latin_phrase_ignores_width_and_case(archive: Archive) -> None:
    post = enriched(
        "weibo", "城市观察", "9100", published_at="2024-05-01T08:00:00+08:00", text="ＣＯＶＩＤ 疫情防控"
    )
    load(archive, [post])
    assert search_ids(archive, text='"covid 疫情"') == [post["id"]]
    assert archive.search(SearchQuery(text="Covid")).highlights[0].text == [(0, 5)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "time:2024-05 reply:pending",
        "source:weibo sentiment:负面 risk:>=55",
        "-region:朝阳区 region:海淀区 OR 公租房",
        "NOT source:weibo time:>=2024-05-31",
        "停车 OR 烧烤",
        "topic:交通出行",
    ],
)
def test_volume_adds_up_the_matching_posts_in_every_interval(archive: Archive, text: str) -> None:
    load(archive)
    hits = archive.search(SearchQuery(text=text, size=100)).hits
    for interval in ("hour", "day", "week"):
        expected: dict[int, int] = {}
        for post in hits:
            start = bucket_start(epoch_ms(datetime.fromisoformat(post["published_at"])), interval)
            expected[start] = expected.get(start, 0) + 1
        buckets = archive.histogram(SearchQuery(text=text), interval)  # type: ignore[arg-type]
        found = {epoch_ms(moment): count for moment, count in buckets if count}
        assert found == expected
        assert not buckets or (buckets[0][1] and buckets[-1][1])  # from the first to the last post
        assert len(buckets) == (len(expected) and (max(expected) - min(expected)) // STEP_MS[interval] + 1)
