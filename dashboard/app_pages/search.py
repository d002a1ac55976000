"""舆情检索: the analyst's search — the query language with source/sentiment/topic filters, a time
range, hits with highlighted snippets, the trend and shares of what matched, saved searches, and an
export of every hit. Post text only reaches the screen in dataframe cells (plain text), with matches
marked by 【】."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st

from archive.errors import ArchiveError, QueryError
from archive.saved import SavedSearch
from core.china_time import CHINA_TZ
from dashboard import queries
from dashboard.auth import Page, Role, User
from dashboard.charts import time_bars
from dashboard.labels import ALL, CHOOSE, EMPTY, SENTIMENT_LABELS, SOURCE_LABELS
from dashboard.queries import Search
from dashboard.session import as_account_now, require
from dashboard.tables import share_table
from yuqing.settings import Settings

SORTS = {"time": "时间（最新在前）", "relevance": "相关度", "risk": "风险（最高在前）"}
INTERVALS = {"hour": "按小时", "day": "按天", "week": "按周"}
HELP = '例：欠薪 AND (工地 OR 农民工) NOT 表扬；"拖欠工资"；source:weibo sentiment:negative risk:>=60'
# Roles that may add and delete saved searches; every role that may open the page can load them.
EDITORS = frozenset({Role.ANALYST, Role.ADMIN})
EXPORT_LIMIT = 100_000
# A field value needs quotes when it holds a character that ends or splits a bare value.
_NEEDS_QUOTES = frozenset("():")
# The language has no escape inside quotes, and reads full-width brackets, quotes and colons as
# ASCII ones, so a value holding any of these cannot be matched exactly.
_UNQUOTABLE = frozenset('"“”＂（）：')


def field_clause(field_name: str, value: str) -> str:
    """``field:value`` in the query language, quoted when bare it would not read as that exact value.

    A value holding a quote mark or a full-width bracket or colon cannot be written: a QueryError.
    """
    if not value.strip():
        raise QueryError(f"字段“{field_name}”的取值不能为空")
    if any(char in _UNQUOTABLE for char in value):
        raise QueryError(f"字段“{field_name}”的取值“{value}”含有引号、全角括号或全角冒号，无法按原样检索")
    # Bare, a leading < or >, a "..", or a leading // (read as a URL) would not be a plain value.
    if any(char.isspace() or char in _NEEDS_QUOTES for char in value) or (
        value[0] in "<>" or ".." in value or value.startswith("//")
    ):
        return f'{field_name}:"{value}"'
    return f"{field_name}:{value}"


def combined_query(text: str, filters: Mapping[str, str | None]) -> str:
    """The typed query AND a clause per chosen filter (``None``, empty or 全部 = no clause).

    The typed query is bracketed when there are clauses, so ``A OR B`` stays one condition.
    """
    clauses = [field_clause(name, value) for name, value in filters.items() if value and value != ALL]
    typed = text.strip()
    if not clauses:
        return typed
    return " ".join([f"({typed})", *clauses] if typed else clauses)


def render(settings: Settings, user: User | None) -> None:
    """Draw the page for a permitted user."""
    user = require(user, Page.SEARCH)
    st.title("舆情检索")
    if not queries.archive_exists(settings):
        st.info("舆情库里还没有帖子。")
        st.stop()
    search = _form(settings)
    _saved_searches(settings, user, search)
    if search is None:
        st.caption(HELP)
        return
    try:
        total, table = queries.search_page(settings, search)
    except QueryError as exc:
        st.error(f"查询有误：{exc.message}")
        return
    except ArchiveError:
        st.error("舆情库暂时无法连接，请稍后再试。")
        return
    st.subheader(f"共 {total:,} 条结果")
    if total == 0:
        return
    st.dataframe(table, hide_index=True, width="stretch")
    _export(settings, search, total)
    _charts(settings, search)


def _topics(settings: Settings) -> list[str]:
    try:
        return queries.topics(settings)
    except ArchiveError:
        return []


def china_today(now: datetime | None = None) -> date:
    """The department's date: a server on UTC is still on yesterday until 08:00 China time."""
    return (now or datetime.now(UTC)).astimezone(CHINA_TZ).date()


def _form(settings: Settings) -> Search | None:
    today = china_today()
    with st.form("search"):
        text = st.text_input("检索式", key="search_text", help=HELP)
        source_box, sentiment_box, topic_box = st.columns(3)
        source = source_box.selectbox(
            "来源",
            [ALL, *SOURCE_LABELS],
            format_func=lambda c: SOURCE_LABELS.get(c, c),
            placeholder=CHOOSE,
            key="search_source",
        )
        sentiment = sentiment_box.selectbox(
            "情感",
            [ALL, *SENTIMENT_LABELS],
            format_func=lambda c: SENTIMENT_LABELS.get(c, c),
            placeholder=CHOOSE,
            key="search_sentiment",
        )
        topic = topic_box.selectbox("话题", [ALL, *_topics(settings)], placeholder=CHOOSE, key="search_topic")
        left, middle, right = st.columns(3)
        since = left.date_input("起始日期", value=today - timedelta(days=30), key="search_since")
        until = middle.date_input("截止日期", value=today, key="search_until")
        sort = right.selectbox(
            "排序", list(SORTS), format_func=SORTS.__getitem__, placeholder=CHOOSE, key="search_sort"
        )
        submitted = st.form_submit_button("检索", type="primary")
    if not submitted and "search_done" not in st.session_state:
        return None
    st.session_state["search_done"] = True
    try:
        query = combined_query(text, {"source": source, "sentiment": sentiment, "topic": topic})
    except QueryError as exc:
        st.error(f"查询有误：{exc.message}")
        return None
    return Search(text=query, since=since, until=until, sort=sort, size=200)


# Saved searches. Loading and deleting run in button callbacks (before the form is drawn again, so
# loading may set the form's fields); what they report waits in the session for the next drawing.


def _flash(kind: str, message: str) -> None:
    st.session_state["saved_message"] = (kind, message)


def _load(settings: Settings, name: str | None) -> None:
    if not name:
        return
    try:
        saved = queries.saved_search_store(settings).get(name)
    except (QueryError, ArchiveError) as exc:
        _flash("error", f"无法载入：{exc}")
        return
    st.session_state["search_text"] = saved.query
    for key in ("search_source", "search_sentiment", "search_topic"):
        st.session_state[key] = ALL
    st.session_state["search_sort"] = saved.sort
    st.session_state["search_done"] = True
    _flash("success", f"已载入“{saved.name}”并检索。")


@as_account_now
def _delete(settings: Settings, user: User, name: str | None) -> None:
    if user.role not in EDITORS:
        _flash("error", "只有分析员和管理员可以删除保存的查询。")
        return
    if not name:
        return
    try:
        queries.saved_search_store(settings).delete(name)
    except (QueryError, ArchiveError) as exc:
        _flash("error", f"删除失败：{exc}")
        return
    _flash("success", f"已删除“{name}”。")


@as_account_now
def _save(settings: Settings, user: User, search: Search | None) -> None:
    if user.role not in EDITORS:
        _flash("error", "只有分析员和管理员可以保存查询。")
        return
    if search is None or not search.text:
        _flash("error", "请先输入检索式并检索，再保存。")
        return
    name = str(st.session_state.get("saved_name") or "").strip()
    threshold = st.session_state.get("saved_threshold")
    saved = SavedSearch(
        name=name,
        query=search.text,
        sort=search.sort,  # type: ignore[arg-type]
        alert_threshold=int(threshold) if threshold is not None else None,
        created_at=datetime.now(CHINA_TZ).isoformat(timespec="seconds"),
    )
    try:
        queries.saved_search_store(settings).save(saved)
    except QueryError as exc:
        _flash("error", f"保存失败：{exc.message}")
        return
    except ArchiveError as exc:
        _flash("error", f"保存失败：{exc}")
        return
    st.session_state["saved_name"] = ""
    _flash("success", f"已保存“{name}”。")


def _saved_searches(settings: Settings, user: User, search: Search | None) -> None:
    with st.expander("保存的查询", expanded=True):
        message = st.session_state.pop("saved_message", None)
        if message is not None:
            kind, text = message
            (st.error if kind == "error" else st.success)(text)
        try:
            saved = queries.saved_search_store(settings).all()
        except ArchiveError as exc:
            st.error(f"无法读取保存的查询：{exc}")
            return
        editor = user.role in EDITORS
        if saved:
            st.dataframe(
                pd.DataFrame(
                    {
                        "名称": [item.name for item in saved],
                        "检索式": [item.query for item in saved],
                        "预警阈值": [
                            EMPTY if item.alert_threshold is None else str(item.alert_threshold)
                            for item in saved
                        ],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
            names = [item.name for item in saved]
            pick, load, delete = st.columns([3, 1, 1], vertical_alignment="bottom")
            name = pick.selectbox("选择查询", names, placeholder=CHOOSE, key="saved_pick")
            load.button("载入并检索", key="saved_load", on_click=_load, args=(settings, name))
            if editor:
                delete.button("删除", key="saved_delete", on_click=_delete, args=(settings, user, name))
        else:
            st.caption("还没有保存的查询。")
        if not editor:
            return
        with st.form("save_search"):
            st.markdown("**保存当前检索式**")
            # st.text, not markdown: the query is typed text and is shown as it is.
            st.text(f"检索式：{search.text}" if search is not None and search.text else "请先检索，再保存。")
            name_box, threshold_box = st.columns(2)
            name_box.text_input("名称", key="saved_name")
            threshold_box.number_input(
                "预警阈值（可选）", min_value=1, value=None, step=1, key="saved_threshold"
            )
            st.form_submit_button("保存", on_click=_save, args=(settings, user, search))


def _export(settings: Settings, search: Search, total: int) -> None:
    capped = min(total, EXPORT_LIMIT)
    note = (
        f"导出全部 {total:,} 条命中"
        if total <= EXPORT_LIMIT
        else f"共 {total:,} 条命中，只导出前 {capped:,} 条"
    )
    st.caption(f"{note}（每次最多 {EXPORT_LIMIT:,} 条）。")
    files = st.session_state.get("export_files")
    if files is None or files[0] != search:
        if not st.button("生成导出文件", key="export_make"):
            return
        try:
            with st.spinner("正在生成导出文件……"):
                xlsx = queries.search_export(settings, search, ".xlsx", EXPORT_LIMIT)[1]
                csv = queries.search_export(settings, search, ".csv", EXPORT_LIMIT)[1]
        except ArchiveError:
            st.error("导出失败：舆情库暂时无法连接，请稍后再试。")
            return
        files = (search, xlsx, csv)
        st.session_state["export_files"] = files
    _, xlsx, csv = files
    xlsx_box, csv_box = st.columns(2)
    xlsx_box.download_button(
        "下载全部结果（XLSX）",
        xlsx,
        file_name="舆情检索结果.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key="export_xlsx",
    )
    csv_box.download_button(
        "下载全部结果（CSV）",
        csv,
        file_name="舆情检索结果.csv",
        mime="text/csv",
        on_click="ignore",
        key="export_csv",
    )


def _charts(settings: Settings, search: Search) -> None:
    interval = st.radio(
        "趋势粒度",
        list(INTERVALS),
        format_func=INTERVALS.__getitem__,
        horizontal=True,
        index=1,
        key="search_interval",
    )
    trend = queries.search_trend(settings, search, interval)
    if not trend.empty:
        trend["时间"] = trend["时间"].map(lambda moment: moment.astimezone(CHINA_TZ).replace(tzinfo=None))
        st.vega_lite_chart(trend, time_bars("时间", "帖子数", hourly=interval == "hour"), width="stretch")
    columns = st.columns(3)
    for column, (field_name, title, labels) in zip(
        columns,
        (
            ("topic", "话题分布", None),
            ("source", "来源分布", SOURCE_LABELS),
            ("sentiment", "情感分布", SENTIMENT_LABELS),
        ),
        strict=True,
    ):
        with column:
            st.markdown(f"**{title}**")
            counts = queries.search_shares(settings, search, field_name)
            if counts:
                st.bar_chart(share_table(counts, labels), x="类别", y="帖子数", horizontal=True)
