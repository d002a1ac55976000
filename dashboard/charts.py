"""Vega-Lite specs for the dashboard's charts, with Chinese labels, dates on every time label and
whole-number counts.

``st.bar_chart`` labels a time axis in English ("05 PM", "Sat 21") and counts with fractions (0.5
posts); these specs label time as 12-05 16时, 12-05 or 12-01起 and count in whole numbers. Each bar
spans its bucket (an hour, a day, or a week from Monday, China time), so one week is one week wide
and never fills the chart alone unless it is the whole range; labels sit at bucket starts, thinned
to at most :data:`MAX_LABELS`. Pure functions: a page passes the spec to ``st.vega_lite_chart`` with
its frame.

Times are China time without an offset: Streamlit hands a naive time to the chart as the same
wall-clock time in the viewer's zone, so the labels read as they are in the frame.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

Interval = Literal["hour", "day", "week"]
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
# Axis labels: every one carries its date; a week is labelled by its Monday.
LABELS = {"hour": "%m-%d %H时", "day": "%m-%d", "week": "%m-%d起"}
TIPS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%Y-%m-%d 起一周"}
MAX_LABELS = 10
# Label every n-th bucket, n one of these (whole days for hours past a day, whole weeks for days).
_STRIDES = {
    "hour": (1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 720),
    "day": (1, 2, 3, 7, 14, 28, 56, 91, 182, 364),
    "week": (1, 2, 4, 8, 13, 26, 52, 104),
}
# The fields each bar spans, computed in the spec: from _START to _END, from _BOTTOM to _TOP.
_START, _END, _BOTTOM, _TOP = "_起", "_止", "_底", "_顶"
GAP = 0.08  # share of a bucket left blank between two bars
INTEGER_AXIS: dict[str, Any] = {"format": "d", "tickMinStep": 1}


def time_bars(
    time: str,
    value: str,
    *,
    hourly: bool | None = None,
    interval: Interval | None = None,
    colour: str | None = None,
    moments: Sequence[datetime] = (),
) -> dict[str, Any]:
    """Bars of ``value`` (a count) over ``time`` per ``interval`` (``hourly`` True/False: hour/day),
    stacked by ``colour`` when given.

    ``moments`` are the frame's bucket starts (naive China time): with them the axis labels exactly
    those, thinned evenly; without them the axis places a label per few hours or per day.
    """
    unit: Interval = interval or ("hour" if hourly else "day")
    step_ms = int(STEP[unit].total_seconds() * 1000)
    field = json.dumps(time, ensure_ascii=False)
    axis: dict[str, Any] = {"format": LABELS[unit], "labelAngle": 0, "labelOverlap": True, "grid": False}
    scale: dict[str, Any] = {}
    if moments:
        axis["values"] = [_datetime(moment) for moment in thinned(moments, unit)]
        # The whole range asked for, each bucket its own width: a single week is not stretched.
        scale["domain"] = [_datetime(moments[0]), _datetime(moments[-1] + STEP[unit])]
    else:
        axis["tickCount"] = {"interval": unit, "step": 3 if unit == "hour" else 1}
    tooltip: list[dict[str, Any]] = [
        {"field": time, "type": "temporal", "format": TIPS[unit], "title": "时间"}
    ]
    encoding: dict[str, Any] = {
        "x": {"field": _START, "type": "temporal", "title": None, "axis": axis, "scale": scale},
        "x2": {"field": _END},
        "y": {"field": _TOP, "type": "quantitative", "title": value, "axis": INTEGER_AXIS},
        "y2": {"field": _BOTTOM},
    }
    if colour is not None:
        encoding["color"] = {"field": colour, "type": "nominal", "title": colour}
        tooltip.append({"field": colour, "type": "nominal"})
    tooltip.append({"field": value, "type": "quantitative", "format": "d"})
    encoding["tooltip"] = tooltip
    # Bars span their bucket (x to x2), so Vega-Lite's own stacking does not apply: stack here.
    stack: dict[str, Any] = {"stack": value, "groupby": [time], "as": [_BOTTOM, _TOP], "offset": "zero"}
    if colour is not None:
        stack["sort"] = [{"field": colour, "order": "ascending"}]
    return {
        "transform": [
            {"calculate": f"time(datum[{field}]) + {step_ms * GAP / 2:.0f}", "as": _START},
            {"calculate": f"time(datum[{field}]) + {step_ms * (1 - GAP / 2):.0f}", "as": _END},
            stack,
        ],
        "mark": {"type": "bar"},
        "encoding": encoding,
    }


ROW_PX = 28  # a category's band in count_bars: every label shown


def count_bars(category: str, value: str) -> dict[str, Any]:
    """Horizontal bars of a count per category, largest first, the count axis in whole numbers; each
    category a band of ROW_PX pixels, so every label shows however narrow the column."""
    return {
        "height": {"step": ROW_PX},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {
                "field": category,
                "type": "nominal",
                "sort": "-x",
                "title": None,
                "axis": {"labelOverlap": False, "labelLimit": 200},
            },
            "x": {"field": value, "type": "quantitative", "title": value, "axis": INTEGER_AXIS},
            "tooltip": [
                {"field": category, "type": "nominal"},
                {"field": value, "type": "quantitative", "format": "d"},
            ],
        },
    }


def thinned(moments: Sequence[datetime], unit: Interval) -> list[datetime]:
    """Every n-th of ``moments`` (n the smallest stride that leaves at most MAX_LABELS)."""
    stride = next((n for n in _STRIDES[unit] if len(moments) <= n * MAX_LABELS), _STRIDES[unit][-1])
    return list(moments[::stride])


def _datetime(moment: datetime) -> dict[str, int]:
    # A Vega-Lite DateTime (months from 1) in the viewer's zone, as Streamlit hands the data over.
    return {
        "year": moment.year,
        "month": moment.month,
        "date": moment.day,
        "hours": moment.hour,
        "minutes": moment.minute,
    }
