"""The query language parser: pure, no archive; the AST and the errors analysts see."""

from __future__ import annotations

from datetime import datetime

import pytest

from archive.ast import And, Match, Not, Or, Phrase, Range, Term
from archive.errors import QueryError
from archive.querylang import parse
from core.china_time import CHINA_TZ


def ms(*args: int) -> int:
    """Epoch milliseconds of a China-time moment."""
    return int(datetime(*args, tzinfo=CHINA_TZ).timestamp() * 1000)  # type: ignore[misc]


def test_not_binds_tighter_than_and_and_and_tighter_than_or() -> None:
    assert parse("a b OR NOT c d") == Or(
        (And((Term("a", 0), Term("b", 2))), And((Not(Term("c", 11)), Term("d", 13))))
    )
    assert parse("(a OR b) -c") == And((Or((Term("a", 1), Term("b", 6))), Not(Term("c", 10))))


def test_fields_take_english_or_chinese_names_and_value_aliases() -> None:
    assert parse("source:weibo 情感：负面 回复:待回复") == And(
        (
            Match("source", "weibo", 0),
            Match("sentiment", "negative", 13),
            Match("reply_status", "pending", 19),
        )
    )
    assert parse('region:"朝阳 区"') == Match("region", "朝阳 区", 0)
    assert parse("“停车难”") == Phrase("停车难", 0)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("risk:>=60", 60, None),
        ("risk:>60", 61, None),
        ("risk:<=30", None, 31),
        ("risk:<30", None, 30),
        ("risk:40..60", 40, 61),
        ("risk:70", 70, 71),
        ("time:2026-03-01..2026-06-30", ms(2026, 3, 1), ms(2026, 7, 1)),
        ("time:2026-03", ms(2026, 3, 1), ms(2026, 4, 1)),
        ("time:2026-12", ms(2026, 12, 1), ms(2027, 1, 1)),
        ("time:>2026", ms(2027, 1, 1), None),
        ("time:..2026-03-01T08:30", None, ms(2026, 3, 1, 8, 31)),
    ],
)
def test_ranges_are_half_open_in_china_time(text: str, low: int | None, high: int | None) -> None:
    node = parse(text)
    assert isinstance(node, Range)
    assert (node.low, node.high) == (low, high)


def test_words_with_colons_minus_and_urls_are_text() -> None:
    assert parse("covid-19") == Term("covid-19", 0)
    assert parse("http://example.gov.cn/a") == Term("http://example.gov.cn/a", 0)
    assert parse("备注:加急") == Term("备注:加急", 0)
    assert parse("   ") is None


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ('停车 "难', "引号不成对：第 4 个字符处的引号没有闭合", 3),
        ("(停车 OR 噪音", "括号不成对：第 1 个字符处的“(”没有对应的“)”", 0),
        ("停车)", "括号不成对：第 3 个字符处多了一个“)”", 2),
        ("author:张三", "未知字段“author”", 0),
        ("risk:80..60", "范围“80..60”写反了", 5),
        ("time:2026-06-30..2026-03-01", "写反了", 5),
        ("停车 AND", "“AND”后面缺少查询条件", 3),
        ("OR 停车", "“OR”前面缺少查询条件", 0),
        ("()", "括号里没有查询条件", 1),
        ("source:", "字段“source”缺少取值", 7),
        ("risk:高", "风险分必须是 0 到 100 的整数", 5),
        ("time:2026-02-30", "不存在的日期", 5),
        ("time:昨天", "无法识别的时间", 5),
        ("topic:>3", "不能写范围", 6),
        ("NOT", "“NOT”后面缺少查询条件", 0),
    ],
)
def test_a_bad_query_says_what_is_wrong_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert message in caught.value.message
    assert caught.value.position == position
