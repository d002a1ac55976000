"""The router: sign-in, the pages the role may open, a Chinese not-found page.

The composition root's entry script (``yuqing/dashboard_app.py``, run by ``yuqing dashboard``)
calls :func:`main` with the way to get the process's :class:`~dashboard.services.Services`; every
page receives them as an argument. Nothing here reads the environment or builds an adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard.app_pages import admin, briefing, ledger, monitor, search
from dashboard.auth import LANDING, Page, User, may_open
from dashboard.change_password import render_change_password
from dashboard.services import Services
from dashboard.session import cookie_script, current_user, render_sign_in, sign_out
from yuqing.settings import SettingsError


def main(load_services: Callable[[], Services]) -> None:
    """Configure the page, get the services and run the page the user navigated to.

    ``load_services`` raises :class:`~yuqing.settings.SettingsError` for a configuration the
    service cannot use: shown in Chinese, never as a traceback.
    """
    st.set_page_config(page_title="舆情监测与回应", page_icon="📡", layout="wide")
    try:
        services = load_services()
    except SettingsError as exc:
        st.error(f"配置有误：{exc}，请联系管理员修改环境变量。")
        st.stop()
    user = current_user(services)
    cookie_script()
    if user is None:
        # Every page's address shows the sign-in form and keeps its address, so the page asked for
        # is the one drawn after signing in (a deep link survives the sign-in).
        form = partial(render_sign_in, services)
        signin = [st.Page(form, title="登录", url_path="signin", default=True)]
        paths = (*PAGE_PATHS.values(), *PAGE_ALIASES.values())
        signin += [st.Page(form, title="登录", url_path=path) for path in paths]
        st.navigation(with_not_found(signin), position="hidden").run()
        return
    _account_box(services, user)
    pages = pages_for(services, user)
    if not pages:
        st.info("您的角色暂无可用页面，请联系管理员。")
        st.stop()
    st.navigation(with_not_found(pages)).run()


def requested_path() -> str:
    """The page path the browser asked for ("" for the bare address)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    name = getattr(getattr(ctx, "pages_manager", None), "intended_page_name", None)
    return str(name or "").strip().strip("/")


def with_not_found(pages: list[st.Page]) -> list[st.Page]:
    """``pages`` plus a hidden Chinese not-found page at the asked-for path when no page has it.

    Without it Streamlit shows its English "Page not found" and runs the default page.
    """
    path = requested_path()
    if not path or path in {page.url_path for page in pages}:
        return pages
    try:
        home = next((page for page in pages if page.url_path == ""), pages[0])  # the default page
        missing = st.Page(
            partial(render_not_found, path, home), title="页面不存在", url_path=path, visibility="hidden"
        )
    except StreamlitAPIException:  # a path Streamlit cannot name a page with (nested, say)
        return pages
    return [*pages, missing]


def render_not_found(path: str, home: st.Page) -> None:
    """The page for an address that names no page (or one this role may not open)."""
    st.title("页面不存在")
    st.warning(f"找不到地址“/{path}”对应的页面，或您的角色无权打开该页面。请检查地址，或返回首页。")
    st.page_link(home, label="返回首页", icon=":material/home:")


def pages_for(services: Services, user: User) -> list[st.Page]:
    """The built pages this user's role may open; each page checks the role again itself."""
    built = [
        (
            Page.MONITOR,
            partial(monitor.render, services, user),
            "值班监测",
            ":material/monitoring:",
            PAGE_PATHS[Page.MONITOR],
        ),
        (
            Page.BRIEFING,
            partial(briefing.render, services, user),
            "领导简报",
            ":material/summarize:",
            PAGE_PATHS[Page.BRIEFING],
        ),
        (
            Page.LEDGER,
            partial(ledger.render, services, user),
            "回应台账",
            ":material/assignment:",
            PAGE_PATHS[Page.LEDGER],
        ),
        (
            Page.SEARCH,
            partial(search.render, services, user),
            "舆情检索",
            ":material/search:",
            PAGE_PATHS[Page.SEARCH],
        ),
        (
            Page.ADMIN,
            partial(admin.render, services, user),
            "系统管理",
            ":material/settings:",
            PAGE_PATHS[Page.ADMIN],
        ),
    ]
    allowed = [p for p in built if may_open(user.role, p[0])]
    landing = LANDING[user.role] if any(p[0] is LANDING[user.role] for p in allowed) else None
    pages = [
        st.Page(
            render,
            title=title,
            icon=icon,
            url_path=path,
            default=page is landing or (i == 0 and landing is None),
        )
        for i, (page, render, title, icon, path) in enumerate(allowed)
    ]
    # Each page's Chinese alias leads to its own address, query and all (hidden from the menu).
    aliases = [
        st.Page(partial(_go_to, target), title=title, url_path=PAGE_ALIASES[page], visibility="hidden")
        for target, (page, _, title, _, _) in zip(pages, allowed, strict=True)
    ]
    return [*pages, *aliases]


def _go_to(page: st.Page) -> None:
    """An alias's page: switch to ``page`` with the address's query (``/回应台账?ticket=…``)."""
    st.switch_page(page, query_params=st.query_params.to_dict())


# Each page's address (``/monitor`` …), the same signed in or out.
PAGE_PATHS = {
    Page.MONITOR: "monitor",
    Page.BRIEFING: "briefing",
    Page.LEDGER: "ledger",
    Page.SEARCH: "search",
    Page.ADMIN: "admin",
}
# Each page's Chinese alias (``/值班监测`` leads to ``/monitor``): Streamlit takes any single path
# segment as a page's ``url_path``; the browser sends it percent-encoded and Streamlit decodes it.
PAGE_ALIASES = {
    Page.MONITOR: "值班监测",
    Page.BRIEFING: "领导简报",
    Page.LEDGER: "回应台账",
    Page.SEARCH: "舆情检索",
    Page.ADMIN: "系统管理",
}


def _account_box(services: Services, user: User) -> None:
    with st.sidebar:
        unit = f"，{user.unit}" if user.unit else ""
        st.caption(f"当前用户：{user.display_name}（{user.role.label}{unit}）")
        if st.button("退出登录", key="sign_out"):
            sign_out(services)
            st.rerun()
    render_change_password(services, user)
