"""Vega-Lite specs for the dashboard's time charts, with Chinese axis labels.

``st.bar_chart`` labels a time axis in English ("05 PM", "Sat 21"); these specs format it as 16时 or
11-21 instead. Pure functions: a page passes the spec to ``st.vega_lite_chart`` with its frame.
"""

from __future__ import annotations

from typing import Any


def time_bars(time: str, value: str, *, hourly: bool, colour: str | None = None) -> dict[str, Any]:
    """Bars of ``value`` over ``time`` per hour (labels 16时) or per day (labels 11-21), stacked by
    ``colour`` when given."""
    unit = "yearmonthdatehours" if hourly else "yearmonthdate"
    label, tip = ("%H时", "%m-%d %H时") if hourly else ("%m-%d", "%Y-%m-%d")
    tooltip: list[dict[str, Any]] = [{"field": time, "type": "temporal", "timeUnit": unit, "format": tip}]
    encoding: dict[str, Any] = {
        "x": {"field": time, "type": "temporal", "timeUnit": unit, "title": None,
              "axis": {"format": label, "labelAngle": 0}},
        "y": {"field": value, "type": "quantitative", "stack": True, "title": value},
    }  # fmt: skip
    if colour is not None:
        encoding["color"] = {"field": colour, "type": "nominal", "title": colour}
        tooltip.append({"field": colour, "type": "nominal"})
    tooltip.append({"field": value, "type": "quantitative"})
    encoding["tooltip"] = tooltip
    return {"mark": {"type": "bar"}, "encoding": encoding}
