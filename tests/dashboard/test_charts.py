"""The dashboard's chart specs: dates on every time label, a bar per bucket as wide as its bucket,
whole-number counts (issue 24: the weekly trend was one full-width bar labelled 11-30, 11-30, 12-01;
the hourly one had no dates and fractional count ticks)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from dashboard.charts import MAX_LABELS, count_bars, thinned, time_bars


def hours(n: int, start: datetime = datetime(2026, 12, 5)) -> list[datetime]:
    return [start + timedelta(hours=i) for i in range(n)]


def labelled(spec: dict[str, Any]) -> list[datetime]:
    return [
        datetime(v["year"], v["month"], v["date"], v["hours"], v["minutes"])
        for v in spec["encoding"]["x"]["axis"]["values"]
    ]


@pytest.mark.parametrize(
    ("interval", "label"), [("hour", "%m-%d %H时"), ("day", "%m-%d"), ("week", "%m-%d起")]
)
def test_every_time_label_carries_its_date(interval: str, label: str) -> None:
    spec = time_bars("时间", "帖子数", interval=interval, moments=[datetime(2026, 11, 30)])  # type: ignore[arg-type]
    assert spec["encoding"]["x"]["axis"]["format"] == label
    assert "%m-%d" in label or "%Y" in label


def test_counts_are_whole_numbers_on_every_chart() -> None:
    for spec in (time_bars("时间", "帖子数", hourly=True), count_bars("话题", "帖子数")):
        axis = next(
            e["axis"]
            for e in spec["encoding"].values()
            if isinstance(e, dict) and e.get("field") in ("帖子数", "_顶")
        )
        assert axis["format"] == "d" and axis["tickMinStep"] == 1


def test_a_single_week_spans_one_week_of_the_range_asked_for() -> None:
    weeks = [datetime(2026, 11, 2) + timedelta(weeks=i) for i in range(5)]
    spec = time_bars("时间", "帖子数", interval="week", moments=weeks)
    start, end = spec["encoding"]["x"]["scale"]["domain"]
    assert (start["month"], start["date"]) == (11, 2) and (end["month"], end["date"]) == (12, 7)
    # Each bar runs from its bucket's start to (nearly) the next one: x to x2, a week apart.
    starts, ends = spec["transform"][0]["calculate"], spec["transform"][1]["calculate"]
    week_ms = 7 * 86_400_000
    assert int(ends.rsplit("+ ", 1)[1]) - int(starts.rsplit("+ ", 1)[1]) == pytest.approx(
        week_ms * 0.92, rel=0.01
    )
    assert labelled(spec) == weeks  # one label per week, never the same date twice


def test_labels_are_thinned_to_whole_days_and_never_repeat() -> None:
    month = hours(24 * 31)
    shown = thinned(month, "hour")
    assert len(shown) <= MAX_LABELS and all(moment.hour == 0 for moment in shown)
    assert len({moment.strftime("%m-%d %H") for moment in shown}) == len(shown)
    day = time_bars("时间", "帖子数", interval="hour", moments=hours(24))
    assert [moment.hour for moment in labelled(day)] == [0, 3, 6, 9, 12, 15, 18, 21]


def test_stacked_bars_keep_their_colour_and_a_tooltip_in_chinese() -> None:
    spec = time_bars("时间", "帖子数", hourly=True, colour="来源")
    stack = spec["transform"][2]
    assert stack["stack"] == "帖子数" and stack["groupby"] == ["时间"]
    assert spec["encoding"]["color"]["field"] == "来源"
    assert spec["encoding"]["tooltip"][0] == {
        "field": "时间",
        "type": "temporal",
        "format": "%Y-%m-%d %H:00",
        "title": "时间",
    }
    # Without the frame's buckets (the monitor's constant spec) a label every three hours.
    assert spec["encoding"]["x"]["axis"]["tickCount"] == {"interval": "hour", "step": 3}


def test_category_bars_give_every_label_its_own_band() -> None:
    spec = count_bars("类别", "帖子数")
    assert spec["height"] == {"step": 28}
    assert spec["encoding"]["y"]["axis"]["labelOverlap"] is False
