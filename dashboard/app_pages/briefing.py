"""领导简报: the 舆情日报 of a chosen date and period on screen, as a Word download, and the stored files.

The briefing is computed once per date and period (:mod:`dashboard.briefing_data`, shared by every
session), from the same :func:`briefing.compute.compute_briefing` the scheduled file comes from, and
laid out from the same outline, so the page and the Word file say the same things under the same
headings. Post text reaches the screen only as plain text (``st.text``) or dataframe cells; every
table is drawn whole (its 合计 row included), never scrolling inside itself. The Word file is built
only when the download button is pressed, in the office's Word template when the settings name one;
a template that cannot be used is reported before then, naming the file and what is wrong. Below
the 待领导决策事项 a leader opens a ticket on 回应台账 or writes a 批示
(:mod:`dashboard.sections.briefing_decisions`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import cast

import pandas as pd
import streamlit as st

from briefing.errors import BriefingError, TemplateError
from briefing.model import Briefing
from briefing.outline import Heading, Image, Paragraph, Table, build_outline
from briefing.schedule import briefings_dir, file_name
from core.china_time import CHINA_TZ
from core.labels import source_label
from dashboard.auth import Page, User
from dashboard.briefing_data import briefing_of, docx_of, docx_problem
from dashboard.charts import Interval, count_bars, time_bars
from dashboard.labels import CHOOSE
from dashboard.sections import briefing_decisions
from dashboard.services import Services
from dashboard.session import require

PERIODS = {"day": "日报", "week": "周报", "month": "月报"}
STORED_SHOWN = 30


def render(services: Services, user: User | None) -> None:
    """Draw the page for a permitted user."""
    user = require(user, Page.BRIEFING)
    st.title("领导简报")
    yesterday = datetime.now(CHINA_TZ).date() - timedelta(days=1)
    left, right = st.columns(2)
    day = left.date_input("简报日期", value=yesterday, key="briefing_date")
    kind = right.selectbox(
        "周期", list(PERIODS), format_func=PERIODS.__getitem__, placeholder=CHOOSE, key="briefing_period"
    )
    if not isinstance(day, date):
        day = yesterday
    if not services.has_archive():
        st.info("暂无数据：舆情库尚未建立。")
    else:
        _briefing(services, user, day, kind)
    _stored(services.settings.home)


def _briefing(services: Services, user: User, day: date, kind: str) -> None:
    try:
        b = briefing_of(services, day, kind)
    except TemplateError as exc:  # the briefing template (YAML): the office's to fix, not an outage
        st.error(
            f"简报模板配置有误，无法生成简报：`{exc.source}`。请管理员修改该文件"
            "（YUQING_BRIEFING_TEMPLATE_FILE）后重启服务。"
        )
        with st.expander("错误详情"):
            st.text(exc.reason)
        return
    except BriefingError:
        st.error("舆情库或回应台账暂时无法读取，请稍后再试。")
        return
    st.subheader(f"{b.title}（{b.period.label}）")
    st.caption(f"{b.department}　生成时间：{b.generated_at:%Y-%m-%d %H:%M}")
    _download(services, b, day, kind)
    if b.empty:
        st.info("本期无舆情数据。")
    _metrics(b)
    for block in build_outline(b).blocks:
        if isinstance(block, Heading):
            st.subheader(block.text)
        elif isinstance(block, Paragraph):
            st.text(block.text)  # may quote post titles, topics and terms: plain text only
        elif isinstance(block, Table):
            frame = pd.DataFrame(list(block.rows), columns=list(block.headers))
            # Whole, as on paper: a per-unit table of a month must show its 合计 without scrolling.
            with st.container(key=f"briefing_table_{block.name}"):
                st.dataframe(frame, hide_index=True, height="content", key=f"briefing_{block.name}")
            if block.name == "decisions":
                briefing_decisions.render(services, user, b.decisions)
        elif isinstance(block, Image):
            _chart(b, block.name)
            st.caption(block.caption)


def _download(services: Services, b: Briefing, day: date, kind: str) -> None:
    problem = docx_problem(services.settings)
    if problem is not None:
        source, reason = problem
        st.error(
            f"Word 模板有误，无法生成 Word 版：{reason}。模板文件：`{source}`"
            "（YUQING_BRIEFING_DOCX_TEMPLATE）。请管理员修改模板或该设置；下方简报内容不受影响。"
        )
        return
    st.download_button(
        "下载 Word 版（.docx）",
        data=lambda: docx_of(services, day, kind),
        file_name=file_name(b.period),
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        key="briefing_docx",
    )


def _metrics(b: Briefing) -> None:
    h = b.headline
    total, negative, in_remit = h.total, h.negative, h.in_remit

    def share(part: int, whole: int) -> float | None:
        return part / whole * 100 if whole else None

    now_neg, before_neg = share(negative.current, total.current), share(negative.previous, total.previous)
    now_remit, before_remit = share(in_remit.current, total.current), share(in_remit.previous, total.previous)
    columns = st.columns(4)
    columns[0].metric("舆情总量", f"{total.current}", f"{total.delta:+d} 条（较上期）")
    columns[1].metric(
        "负面占比",
        "—" if now_neg is None else f"{now_neg:.1f}%",
        None if now_neg is None or before_neg is None else f"{now_neg - before_neg:+.1f} 个百分点",
        delta_color="inverse",
    )
    columns[2].metric(
        "职责范围内占比",
        "—" if now_remit is None else f"{now_remit:.1f}%",
        None if now_remit is None or before_remit is None else f"{now_remit - before_remit:+.1f} 个百分点",
    )
    columns[3].metric("高风险帖子", f"{b.risks.count}")
    if h.by_source:
        for column, (code, change) in zip(st.columns(len(h.by_source)), h.by_source, strict=True):
            column.metric(source_label(code), f"{change.current}", f"{change.delta:+d}")


def _chart(b: Briefing, name: str) -> None:
    if name == "volume":
        moments = [moment.astimezone(CHINA_TZ).replace(tzinfo=None) for moment, _ in b.volume]
        frame = pd.DataFrame({"时间": moments, "帖子数": [count for _, count in b.volume]})
        interval = "hour" if b.period.kind == "day" else "day"
        spec = time_bars("时间", "帖子数", interval=cast(Interval, interval), moments=moments)
        st.vega_lite_chart(frame, spec, width="stretch", height=240)
    elif name == "topics":
        frame = pd.DataFrame({"话题": [t for t, _ in b.topics], "帖子数": [n for _, n in b.topics]})
        st.vega_lite_chart(frame, count_bars("话题", "帖子数"), width="stretch")


def _stored(home: Path) -> None:
    st.subheader("已生成的简报文件")
    directory = briefings_dir(home)
    files = sorted(
        (path for path in directory.glob("舆情*报-*") if path.is_file()), key=lambda p: p.name, reverse=True
    )
    if not files:
        st.caption(f"暂无定时生成的简报（保存位置：{directory}）。")
        return
    shown = files[:STORED_SHOWN]
    frame = pd.DataFrame(
        {
            "文件": [path.name for path in shown],
            "大小（KB）": [round(path.stat().st_size / 1024, 1) for path in shown],
            "生成时间": [
                datetime.fromtimestamp(path.stat().st_mtime, CHINA_TZ).strftime("%Y-%m-%d %H:%M")
                for path in shown
            ],
        }
    )
    st.dataframe(frame, hide_index=True, key="briefing_files")
    chosen = st.selectbox(
        "选择文件下载", [path.name for path in shown], placeholder=CHOOSE, key="briefing_file"
    )
    path = directory / str(chosen)
    st.download_button(
        "下载所选文件", data=lambda: _read(path), file_name=path.name, key="briefing_file_download"
    )


def _read(path: Path) -> bytes:
    return path.read_bytes()
