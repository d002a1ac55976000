"""The fields of the query language: names analysts type (English or Chinese), value aliases, ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from archive.errors import QueryError
from core.china_time import CHINA_TZ


@dataclass(frozen=True)
class FieldSpec:
    """One query field: its canonical name, whether it takes a range, and aliases of its values."""

    name: str  # an archive.base.FILTER_FIELDS name, or "risk" / "time"
    label: str  # the Chinese name shown in help and errors
    ranged: bool = False
    values: dict[str, str] = field(default_factory=dict)


_SENTIMENTS = {"负面": "negative", "正面": "positive", "中性": "neutral"}
_REPLIES = {"待回复": "pending", "未回复": "pending", "已回复": "replied"}
_SOURCES = {"热线": "hotline", "12345": "hotline", "留言板": "board", "微博": "weibo", "新闻": "news"}

_SPECS = (
    (("source", "来源"), FieldSpec("source", "来源", values=_SOURCES)),
    (("channel", "渠道"), FieldSpec("channel", "渠道")),
    (("topic", "话题", "主题"), FieldSpec("topic", "话题")),
    (("sentiment", "情感", "情绪"), FieldSpec("sentiment", "情感", values=_SENTIMENTS)),
    (("region", "地区", "区域"), FieldSpec("region", "地区")),
    (("appeal", "appeal_type", "诉求"), FieldSpec("appeal_type", "诉求类型")),
    (("reply", "reply_status", "回复"), FieldSpec("reply_status", "回复状态", values=_REPLIES)),
    (("event", "事件"), FieldSpec("event", "事件")),
    (("risk", "风险"), FieldSpec("risk", "风险分", ranged=True)),
    (("time", "时间", "发布时间"), FieldSpec("time", "发布时间", ranged=True)),
)
QUERY_FIELDS: dict[str, FieldSpec] = {name: spec for names, spec in _SPECS for name in names}


def field_help() -> str:
    """The fields as analysts may type them, for error messages."""
    return "、".join(f"{names[0]}（{spec.label}）" for names, spec in _SPECS)


def _at(position: int) -> str:
    return f"第 {position + 1} 个字符处"


_TIME = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:T(\d{1,2}):(\d{2})(?::(\d{2}))?)?)?)?")


def _period(text: str, position: int) -> tuple[datetime, datetime]:
    """The China-time period a time value names: a year, a month, a day, a minute or a second."""
    found = _TIME.fullmatch(text.replace("/", "-"))
    if found is None:
        raise QueryError(
            f"无法识别的时间“{text}”（{_at(position)}）；"
            "请写成 2026、2026-03、2026-03-01 或 2026-03-01T08:30",
            position=position,
        )
    parts = [int(part) if part else None for part in found.groups()]
    year, month, day, hour, minute, second = parts
    try:
        start = datetime(
            year or 1970, month or 1, day or 1, hour or 0, minute or 0, second or 0, tzinfo=CHINA_TZ
        )
    except ValueError:
        raise QueryError(f"不存在的日期“{text}”（{_at(position)}）", position=position) from None
    if month is None:
        end = start.replace(year=start.year + 1)
    elif day is None:
        end = start.replace(year=start.year + 1, month=1) if month == 12 else start.replace(month=month + 1)
    elif hour is None:
        end = start + timedelta(days=1)
    else:
        end = start + (timedelta(seconds=1) if second is not None else timedelta(minutes=1))
    return start, end


def _bounds(name: str, text: str, position: int) -> tuple[int, int]:
    """``[start, end)`` of one value: epoch ms of a time period, or ``[n, n + 1)`` of a risk score."""
    if name == "time":
        start, end = _period(text, position)
        return int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    if not text.isdigit() or int(text) > 100:
        raise QueryError(f"风险分必须是 0 到 100 的整数，“{text}”不是（{_at(position)}）", position=position)
    return int(text), int(text) + 1


def parse_range(name: str, value: str, position: int) -> tuple[int | None, int | None]:
    """Half-open ``[low, high)`` of a ``risk`` or ``time`` value such as ``>=60`` or ``2026-03..2026-06``."""
    for operator in (">=", "<=", ">", "<"):
        if value.startswith(operator):
            at = position + len(operator)
            start, end = _bounds(name, value[len(operator) :].strip(), at)
            return {">=": (start, None), ">": (end, None), "<=": (None, end), "<": (None, start)}[operator]
    if ".." in value:
        left, _, right = value.partition("..")
        low = _bounds(name, left, position)[0] if left else None
        high = _bounds(name, right, position + len(left) + 2)[1] if right else None
        if low is None and high is None:
            raise QueryError(f"范围“{value}”两端都是空的（{_at(position)}）", position=position)
        if low is not None and high is not None and low >= high:
            raise QueryError(
                f"范围“{value}”写反了：起点“{left}”在终点“{right}”之后（{_at(position)}）；请把小的写在前面",
                position=position,
            )
        return low, high
    return _bounds(name, value, position)
