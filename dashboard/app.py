"""The dashboard's entry point (``streamlit run dashboard/app.py``): settings once, then the router.

This is a process entry point, so it is the one dashboard file that reads ``os.environ``; every page
receives the frozen settings as an argument.
"""

from __future__ import annotations

import os
from functools import partial

import streamlit as st

from dashboard.app_pages import admin, briefing, latest, ledger, search
from dashboard.auth import Page, User, may_open
from dashboard.session import current_user, render_sign_in, sign_out
from yuqing.settings import PREFIX, Settings, SettingsError


@st.cache_resource(show_spinner=False)
def load_settings(environ: tuple[tuple[str, str], ...]) -> Settings:
    """Settings for one ``YUQING_*`` environment, built once per process and environment.

    Keyed by the variables themselves so that a process whose environment changes (tests do this)
    never reads a stale object.
    """
    return Settings.from_env(dict(environ))


def main() -> None:
    """Configure the page, build the settings and run the page the user navigated to."""
    st.set_page_config(page_title="舆情监测与回应", page_icon="📡", layout="wide")
    environ = tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith(PREFIX)))
    try:
        settings = load_settings(environ)
    except SettingsError as exc:
        st.error(f"配置有误：{exc}，请联系管理员修改环境变量。")
        st.stop()
    user = current_user(settings)
    if user is None:
        sign_in = st.Page(partial(render_sign_in, settings), title="登录", url_path="signin", default=True)
        st.navigation([sign_in], position="hidden").run()
        return
    _account_box(user)
    pages = pages_for(settings, user)
    if not pages:
        st.info("您的角色暂无可用页面，请联系管理员。")
        st.stop()
    st.navigation(pages).run()


def pages_for(settings: Settings, user: User) -> list[st.Page]:
    """The built pages this user's role may open; each page checks the role again itself."""
    built = [
        (
            Page.MONITOR,
            partial(latest.render, settings, user),
            "值班监测",
            ":material/monitoring:",
            "monitor",
        ),
        (
            Page.BRIEFING,
            partial(briefing.render, settings, user),
            "领导简报",
            ":material/summarize:",
            "briefing",
        ),
        (Page.LEDGER, partial(ledger.render, settings, user), "回应台账", ":material/assignment:", "ledger"),
        (Page.SEARCH, partial(search.render, settings, user), "舆情检索", ":material/search:", "search"),
        (Page.ADMIN, partial(admin.render, settings, user), "系统管理", ":material/settings:", "admin"),
    ]
    return [
        st.Page(render, title=title, icon=icon, url_path=path, default=index == 0)
        for index, (page, render, title, icon, path) in enumerate(
            p for p in built if may_open(user.role, p[0])
        )
    ]


def _account_box(user: User) -> None:
    with st.sidebar:
        unit = f"，{user.unit}" if user.unit else ""
        st.caption(f"当前用户：{user.display_name}（{user.role.label}{unit}）")
        if st.button("退出登录", key="sign_out"):
            sign_out()
            st.rerun()


if __name__ == "__main__":
    main()
