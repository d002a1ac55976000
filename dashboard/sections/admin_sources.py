"""系统管理 → 采集来源: every configured source of every kind (boards, JSON boards, news, 12345 API and
export inbox, Weibo-like feeds) with its address, schedule, latest crawl and state
(:func:`crawlers.catalog.describe_sources`), and 试采: one source crawled now without publishing
(:attr:`dashboard.services.Services.try_source`, :func:`crawlers.trial.try_source`) behind a spinner,
its items shown with every field.

A try runs in a process of its own for up to a few minutes; its result stays on the page (for the
session) until another source is tried. Post text in the items reaches the screen only in dataframe
cells.
"""

from __future__ import annotations

import logging
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import streamlit as st

from dashboard.auth import Page, User, may_open
from dashboard.labels import CHOOSE
from dashboard.services import Services

log = logging.getLogger(__name__)
RESULT_KEY = "admin_trial"


def render(services: Services, admin: User) -> None:
    """The tab: the sources, then 试采."""
    from crawlers.catalog import describe_sources, sources_path
    from crawlers.errors import CrawlerError

    try:
        infos = describe_sources(services.settings)
    except CrawlerError as exc:
        st.error("采集来源配置有误，请修改配置文件后重启服务。")
        with st.expander("错误详情"):
            st.text(str(exc))
        return
    st.caption(
        f"配置文件：{sources_path(services.settings)}。共 {len(infos)} 个数据源；"
        "“上次发布”为最近一次抓取发布的帖子数，“累计帖子”为该来源已发布的全部帖子。"
    )
    if not infos:
        st.info("尚未配置数据源。")
        return
    table = pd.DataFrame([info.as_row() for info in infos])
    # What an administrator looks for first (is it working?) before where it is read from.
    first = ["名称", "类型", "状态", "上次抓取", "上次发布", "累计帖子", "抓取周期"]
    table = table[[*first, *(column for column in table.columns if column not in first)]]
    st.dataframe(table, hide_index=True, height="content")
    with st.container(border=True, key="admin_trial_box"):
        st.subheader("试采")
        st.caption(
            "立即抓取所选数据源的第一页（最多 20 条），逐条显示读到的每个字段和能否发布；"
            "只抓取、不发布，不改变抓取进度，也不会暂停该来源。用于新增或修改数据源后核对配置。"
        )
        names = {info.name: info for info in infos}
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        picked = left.selectbox(
            "数据源",
            list(names),
            index=None,
            format_func=lambda n: f"{names[n].display_name}（{n}，{names[n].kind_label}）",
            placeholder=CHOOSE,
            key="trial_source",
        )
        if right.button("试采", type="primary", key="trial_run", disabled=picked is None) and picked:
            _try(services, admin, picked)
        _result()


def _try(services: Services, admin: User, name: str) -> None:
    from crawlers.errors import CrawlerError

    if not may_open(admin.role, Page.ADMIN):
        st.error("无权访问此页面。")
        return
    try:
        with st.spinner("正在试采：启动采集进程并抓取第一页，通常需要十几秒，最长约三分钟……"):
            result = services.try_source(name)
    except CrawlerError as exc:
        st.session_state[RESULT_KEY] = (name, None, f"无法试采：{exc}")
        return
    except (FutureTimeout, TimeoutError):
        st.session_state[RESULT_KEY] = (
            name,
            None,
            "试采超时（三分钟内没有完成），请检查该来源的地址和网络。",
        )
        return
    except (BrokenProcessPool, OSError):
        log.warning("event=trial-failed source=%s", name, exc_info=True)
        st.session_state[RESULT_KEY] = (name, None, "试采进程意外退出，请查看服务日志。")
        return
    log.info("event=trial source=%s user=%s items=%d", name, admin.username, len(result.items))
    st.session_state[RESULT_KEY] = (name, result, None)


def _result() -> None:
    from crawlers.trial import TrialResult, reason_text

    kept = st.session_state.get(RESULT_KEY)
    if kept is None:
        return
    name, result, problem = kept
    if problem is not None or not isinstance(result, TrialResult):
        st.error(problem or "试采失败。")
        return
    ended = (
        "正常结束"
        if result.finish_reason in ("finished", "closespider_itemcount")
        else reason_text(result.finish_reason)
    )
    summary = (
        f"试采 {name}（{result.kind_label}）：抓取 {result.pages} 个页面，"
        f"用时 {result.seconds:.1f} 秒，{ended}。"
        f"{result.publishable} 条可以发布，{result.rejected} 条无法发布，{result.failed} 个页面或记录失败。"
    )
    (st.success if result.items and not result.rejected and not result.failed else st.warning)(summary)
    if not result.items:
        st.info("没有读到任何条目：请检查地址、列表选择器或记录路径。")
        return
    st.dataframe(pd.DataFrame(result.rows()).astype(str), hide_index=True, key="trial_rows")
