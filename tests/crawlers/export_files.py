"""12345 exports as other platforms write them, for the inbox tests (the demo inbox has our own shape).

``title-merged.xlsx``: a title row merged across the sheet, then a two-row header whose 来电人信息 is
merged over 来电人 and 来电号码 and whose other headers are merged down both rows; headers named
工单号/来电时间/问题描述/业务类型/处理部门/工单状态, one (片区) mapped by ``columns:``, one unknown
(紧急程度); a row whose 来电时间 is not a time. ``gbk.csv``: GBK, headers 编号/创建时间/来电内容/…,
a row without 编号. ``old.xls``: the old binary format (a committed file; see ``make_old_xls``) with
受理编号/登记时间/反映内容/手机号码/事项名称 and real date cells. ``broken.xls``: not a workbook.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

FILES = Path(__file__).parent / "files"
OLD_XLS = FILES / "old.xls"
COLUMNS = (("所属区域", "片区"),)  # the source's ``columns:`` for title-merged.xlsx

TITLE = "云溪市12345政务服务便民热线工单导出（2024年6月）"
UPPER = [
    "工单号",
    "来电时间",
    "来电人信息",
    None,
    "问题描述",
    "业务类型",
    "处理部门",
    "工单状态",
    "片区",
    "紧急程度",
]
LOWER = [None, None, "来电人", "来电号码", None, None, None, None, None, None]
MERGED_ROWS: list[list[object]] = [
    ["YXM001", datetime(2024, 6, 10, 9, 5), "周先生", 13812345678, "滨江路路灯不亮，夜间行人看不清路面。",
     "求助", "云溪市城市管理局", "已办结", "滨江片区", "一般"],
    ["YXM002", "待定", "吴女士", 13987654321, "没有来电时间的一行。", "咨询", "云溪市公安局", "办理中",
     "城东片区", "一般"],
    ["YXM003", "2024-06-11 14:20", "郑先生", "13700001234", "小区垃圾清运不及时，异味严重。", "投诉",
     "云溪市城市管理局", "已签收", "城东片区", "紧急"],
]  # fmt: skip
GBK_HEADER = ["编号", "创建时间", "来电内容", "联系电话", "来电类别", "主办单位", "完成时间", "满意度"]
GBK_ROWS = [
    ["YXG001", "2024/06/12 08:00", "公交站台顶棚破损漏雨。", "13611112222", "投诉", "云溪市交通运输局",
     "2024/06/13 17:00", "满意"],
    ["", "2024/06/12 09:00", "没有编号的一行。", "13611113333", "咨询", "云溪市交通运输局", "", ""],
    ["YXG003", "2024/06/12 10:30", "学校门口早高峰拥堵，建议增设护学岗。", "", "建议", "云溪市教育局",
     "", ""],
]  # fmt: skip
XLS_HEADER = ["受理编号", "登记时间", "反映内容", "手机号码", "事项名称"]
XLS_ROWS: list[list[object]] = [
    ["YXO001", datetime(2024, 6, 14, 8, 30), "老旧小区加装电梯进度缓慢。", "13500001111", "加装电梯"],
    ["YXO002", datetime(2024, 6, 14, 9, 45), "菜市场污水外溢，电话13500002222。", "13500002222", "污水外溢"],
]
GOOD = ("YXM001", "YXM003", "YXG001", "YXG003", "YXO001", "YXO002")


def title_merged_xlsx(path: Path) -> Path:
    """The export with a title row and a two-row merged header."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([TITLE])
    sheet.append(UPPER)
    sheet.append(LOWER)
    for row in MERGED_ROWS:
        sheet.append(row)
    sheet.merge_cells("A1:J1")
    sheet.merge_cells("C2:D2")
    for column in "ABEFGHIJ":
        sheet.merge_cells(f"{column}2:{column}3")
    workbook.save(path)
    return path


def gbk_csv(path: Path) -> Path:
    """The GBK CSV (as Excel saves one on Chinese Windows)."""
    text = io.StringIO()
    csv.writer(text).writerows([GBK_HEADER, *GBK_ROWS])
    path.write_bytes(text.getvalue().encode("gbk"))
    return path


def write_files(folder: Path) -> list[Path]:
    """Drop every sample into ``folder`` (the old .xls copied from the committed file)."""
    folder.mkdir(parents=True, exist_ok=True)
    broken = folder / "broken.xls"
    broken.write_bytes(b"\xd0\xcf\x11\xe0 this is not a workbook")
    return [
        title_merged_xlsx(folder / "title-merged.xlsx"),
        gbk_csv(folder / "gbk.csv"),
        Path(shutil.copy(OLD_XLS, folder / "old.xls")),
        broken,
    ]


def make_old_xls(target: Path = OLD_XLS) -> None:
    """Regenerate ``files/old.xls`` (needs LibreOffice): ``python -m tests.crawlers.export_files``."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / target.with_suffix(".xlsx").name
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        for row in [XLS_HEADER, *XLS_ROWS]:
            sheet.append(row)
        sheet.column_dimensions["B"].width = 20
        for cell in sheet["B"][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm:ss"
        workbook.save(source)
        command = ["soffice", "--headless", "--convert-to", "xls", "--outdir", folder, str(source)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source.with_suffix(".xls"), target)


if __name__ == "__main__":
    make_old_xls()
