"""舆情检索's export: every hit of the search (up to ``EXPORT_LIMIT``) as XLSX and CSV files.

The files are built only when asked (an export may be 100,000 rows) and kept for the same search,
so the two download buttons hand out what was built instead of querying again.
"""

from __future__ import annotations

import streamlit as st

from archive.errors import ArchiveError
from dashboard import search_data
from dashboard.search_data import Search
from dashboard.services import Services

EXPORT_LIMIT = 100_000


def render(services: Services, search: Search, total: int) -> None:
    """How many hits the export holds, 生成导出文件, then the two downloads."""
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
                xlsx = search_data.search_export(services, search, ".xlsx", EXPORT_LIMIT)[1]
                csv = search_data.search_export(services, search, ".csv", EXPORT_LIMIT)[1]
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
