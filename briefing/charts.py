"""The briefing's charts as PNG bytes: volume over the period and posts per topic (matplotlib, Agg).

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot, no global figure
state), so the scheduler and the dashboard's threads can draw at once. Chinese labels use a CJK
font when one is installed (Noto Sans CJK from Debian's fonts-noto-cjk, or another common one);
without one the charts are still drawn, with missing glyphs, and no warning is raised.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.model import Briefing

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
_CJK_FILES = ("cjk", "wqy", "sourcehan", "simhei", "msyh")
TOPIC_BARS = 10
PRINT_DPI = 200  # the Word file is printed: 8 inches at 200 dpi is 1,600 pixels across
ACCENT = "#c0392b"  # the dashboard's accent colour


@cache
def cjk_font() -> str | None:
    """The first installed CJK font family of :data:`CJK_FONTS`, or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    if not installed.intersection(CJK_FONTS):
        # matplotlib's font cache predates fonts installed since (Debian's fonts-noto-cjk): add them.
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name.lower() for key in _CJK_FILES):
                font_manager.fontManager.addfont(path)
        installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _png(draw: Callable[[Figure], None]) -> bytes:
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = cjk_font()
    families = [font, "DejaVu Sans"] if font is not None else ["DejaVu Sans"]
    buffer = io.BytesIO()
    style = rc_context(
        {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}
    )
    with style, warnings.catch_warnings():
        # Without a CJK font every Chinese label warns of missing glyphs: the fallback is silent.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        figure = Figure(figsize=(8, 3.2), dpi=PRINT_DPI, layout="constrained")
        figure.set_facecolor("white")
        FigureCanvasAgg(figure)
        draw(figure)
        figure.savefig(buffer, format="png", dpi=PRINT_DPI, metadata={"Software": None})
    return buffer.getvalue()


def volume_png(volume: Sequence[tuple[datetime, int]], *, hourly: bool) -> bytes:
    """Posts per hour (a day's briefing) or per day, as bars."""

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        labels = [moment.strftime("%H" if hourly else "%m-%d") for moment, _ in volume]
        axes.bar(range(len(volume)), [count for _, count in volume], color=ACCENT, width=0.8)
        step = max(len(labels) // 12, 1)
        axes.set_xticks(range(0, len(labels), step), labels[::step])
        axes.set_xlabel("时" if hourly else "日期")
        axes.set_ylabel("帖子数")
        axes.spines[["top", "right"]].set_visible(False)

    return _png(draw)


def topics_png(topics: Sequence[tuple[str, int]]) -> bytes:
    """Posts per topic, the largest ``TOPIC_BARS`` as horizontal bars, largest on top."""
    shown = list(topics[:TOPIC_BARS])[::-1]

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        axes.barh([name for name, _ in shown], [count for _, count in shown], color=ACCENT)
        for y, (_, count) in enumerate(shown):
            axes.text(count, y, f" {count}", va="center")
        axes.set_xlabel("帖子数")
        axes.spines[["top", "right"]].set_visible(False)

    return _png(draw)


def briefing_charts(b: Briefing) -> dict[str, bytes]:
    """The charts of a briefing with posts, by name (``volume``, ``topics``); none for an empty one."""
    if b.empty or "charts" not in b.sections:
        return {}
    charts = {"volume": volume_png(b.volume, hourly=b.period.kind == "day")}
    if b.topics:
        charts["topics"] = topics_png(b.topics)
    return charts
