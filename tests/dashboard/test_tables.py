"""The dashboard's labels and tables, without Streamlit running."""

from __future__ import annotations

from datetime import datetime

from core.china_time import CHINA_TZ
from dashboard.labels import REPLY_LABELS, SENTIMENT_LABELS, SOURCE_LABELS, label
from dashboard.monitor_data import Filters
from dashboard.tables import POST_COLUMNS, posts_table, share_table
from tests.dashboard.samples import enriched_post


def test_every_code_has_a_chinese_label_and_unknown_codes_show_as_they_are() -> None:
    assert set(SOURCE_LABELS.values()) == {"12345热线", "留言板", "微博", "新闻"}
    assert set(SENTIMENT_LABELS.values()) == {"负面", "中性", "正面"}
    assert set(REPLY_LABELS.values()) == {"已回复", "未回复"}
    assert label(SOURCE_LABELS, "forum") == "forum"
    assert label(REPLY_LABELS, None) == "—"


def test_posts_table_shows_china_time_and_labels_in_the_given_order() -> None:
    utc_evening = datetime.fromisoformat("2025-03-01T16:30:00+00:00")  # 00:30 the next day in China
    posts = [
        enriched_post("a", published_at=utc_evening, reply_status="replied"),
        enriched_post("b", source="news", published_at=utc_evening, sentiment="positive", reply_status=None),
    ]
    table = posts_table(posts)
    assert tuple(table.columns) == POST_COLUMNS
    assert table.iloc[0].tolist() == [
        "2025-03-02 00:30",
        "留言板",
        "市长信箱",
        "小区夜间施工噪音扰民",
        "负面",
        "城市管理",
        40,
        "已回复",
    ]
    assert table["来源"].tolist() == ["留言板", "新闻"]
    assert table["回复状态"].tolist() == ["已回复", "—"]


def test_an_empty_table_still_has_its_columns() -> None:
    assert tuple(posts_table([]).columns) == POST_COLUMNS


def test_share_table_labels_codes_and_keeps_their_order() -> None:
    table = share_table({"weibo": 3, "hotline": 1}, SOURCE_LABELS)
    assert table.to_dict("list") == {"类别": ["微博", "12345热线"], "帖子数": [3, 1]}
    assert share_table({"城市管理": 2})["类别"].tolist() == ["城市管理"]


def test_filters_become_an_archive_query() -> None:
    since = datetime(2025, 1, 1, tzinfo=CHINA_TZ)
    query = Filters(source="weibo", topic="交通出行", keyword="  地铁  ").query(size=10, since=since)
    assert query.filters == {"source": "weibo", "topic": "交通出行"}
    assert (query.text, query.size, query.since, query.sort) == ("地铁", 10, since, "time")
    assert Filters().query().filters == {}


def test_a_snippet_marks_every_match_in_plain_text_around_the_first() -> None:
    from dashboard.tables import snippet

    text = "甲" * 50 + "欠薪" + "乙" * 10 + "欠薪" + "丙" * 100
    cut = snippet(text, [(50, 52), (62, 64)], width=40)
    assert cut == "…" + "甲" * 10 + "【欠薪】" + "乙" * 10 + "【欠薪】" + "丙" * 16 + "…"
    assert snippet("", []) == "—"
    assert snippet("短文本", []) == "短文本"
