"""12345 export files for the demo inbox: a GB18030 CSV and an XLSX that are good, and the bad ones.

``write_exports(folder)`` drops them into an inbox folder: ``good.csv`` (GB18030, as Excel on Chinese
Windows saves it), ``good.xlsx``, ``extra-columns.xlsx`` (an unknown column kept in raw.extra, optional
columns missing), ``empty.xlsx`` (no rows at all), ``missing-columns.xlsx`` (no 工单编号 or 受理时间).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HEADER = ["工单编号", "受理时间", "诉求类型", "诉求标题", "诉求内容", "所属区域", "承办单位", "办理状态"]
HEADER += ["办结时间", "回访满意度", "来电人", "来电号码", "答复内容"]
CSV_ROWS = [
    [
        "YXF0001", "2024-06-01 08:30:00", "投诉", "菜市场占道经营",
        "东湖菜市场门口摊贩占道经营，早高峰车辆无法通行。", "东湖区", "东湖区城市管理局",
        "已办结", "2024-06-03 10:00:00", "满意", "钱先生", "13800138000",
        "已清理占道摊位，并设置临时疏导点。",
    ],
    [
        "YXF0002", "2024/06/02 14:10", "咨询", "居住证办理",
        "外地户籍在云溪工作，咨询居住证办理需要哪些材料。", "云溪市", "云溪市公安局",
        "办理中", "", "", "冯女士", "13900001111", "",
    ],
]  # fmt: skip
XLSX_ROWS: list[list[object]] = [
    [
        "YXF0101", datetime(2024, 6, 4, 9, 0), "求助", "楼道灯长期不亮",
        "北街3号楼楼道灯坏了一个月，老人晚上摔倒过。", "北街街道", "北街街道办事处",
        "已办结", datetime(2024, 6, 5, 16, 0), "非常满意", "褚先生", 13700002222,
        "社区已更换楼道灯。",
    ],
    [
        "YXF0102", datetime(2024, 6, 4, 11, 30), "举报", "工地扬尘",
        "城东新区工地未覆盖裸土，扬尘严重，身份证11010519491231002X。", "城东新区",
        "云溪市生态环境局", "已签收", None, None, "卫女士", 13600003333, None,
    ],
]  # fmt: skip
EXTRA_HEADER = ["工单编号", "受理时间", "诉求内容", "诉求类型", "紧急程度", "坐席工号"]
EXTRA_ROWS = [
    ["YXF0201", "2024-06-05 10:00:00", "小区电梯经常困人，物业维修不及时。", "投诉", "紧急", "A1024"]
]
MISSING_HEADER = ["诉求标题", "诉求内容", "所属区域"]
MISSING_ROWS = [["无编号工单", "没有工单编号和受理时间的导出行。", "南湾区"]]
GOOD_ORDERS = ("YXF0001", "YXF0002", "YXF0101", "YXF0102", "YXF0201")


def _xlsx(path: Path, rows: list[list[object]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def write_exports(folder: Path) -> list[Path]:
    """Write the sample export files into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *CSV_ROWS])
    good_csv = folder / "good.csv"
    good_csv.write_bytes(text.getvalue().encode("gb18030"))
    paths = [good_csv]
    for name, rows in (
        ("good.xlsx", [HEADER, *XLSX_ROWS]),
        ("extra-columns.xlsx", [EXTRA_HEADER, *EXTRA_ROWS]),
        ("empty.xlsx", []),
        ("missing-columns.xlsx", [MISSING_HEADER, *MISSING_ROWS]),
    ):
        _xlsx(folder / name, rows)  # type: ignore[arg-type]
        paths.append(folder / name)
    return paths
