"""An office's own Word template as an office would make it, built with python-docx for the tests.

Its placeholders are split across runs the way Word splits typed text (formatting changes, spelling
marks), in the header, the body and a table; ``{{正文}}`` is a paragraph of its own between the
版头 and the 版记. The page is A4 with margins of its own (left and right 27 mm), the body font 仿宋
(not the built-in layout's 仿宋_GB2312) and a centred page number of its own in the footer (第 N 页).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

BODY_FONT = "仿宋"
MARGINS_MM = (37, 35, 27, 27)  # top, bottom, left, right
BEFORE_BODY = 5  # paragraphs of the 版头 and the title before {{正文}}


def _east_asia(run_or_style: object, font: str) -> None:
    element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._r  # type: ignore[attr-defined]
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)


def _runs(paragraph: object, *parts: str, font: str = BODY_FONT, size: float = 16, red: bool = False) -> None:
    for part in parts:
        run = paragraph.add_run(part)  # type: ignore[attr-defined]
        _east_asia(run, font)
        run.font.size = Pt(size)
        if red:
            run.font.color.rgb = RGBColor(0xC0, 0, 0)


def _rule(paragraph: object, where: str) -> None:
    borders = OxmlElement("w:pBdr")
    line = OxmlElement(f"w:{where}")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "4"), ("w:color", "C00000")):
        line.set(qn(key), value)
    borders.append(line)
    paragraph._p.get_or_add_pPr().append(borders)  # type: ignore[attr-defined]


def _page_field(paragraph: object) -> None:
    run = paragraph.add_run()  # type: ignore[attr-defined]
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text == " PAGE " else "w:t")
            element.text = text
        run._r.append(element)


def make_office_template(path: Path, *, headings: bool = False) -> Path:
    """Write the office's template to ``path`` (.docx).

    Word keeps only the styles a document uses: without ``headings`` the template has no 标题 1,
    标题 2 or 网格型 (Table Grid) style, as one whose author never used them; with it, its 标题 1 is
    its own (方正小标宋简体, red).
    """
    document = Document()
    styles = document.styles.element
    for style_name in ("heading 1", "heading 2", "Table Grid"):
        styles.remove(styles.get_by_name(style_name))
    if headings:
        heading = document.styles.add_style("Heading 1", WD_STYLE_TYPE.PARAGRAPH)
        heading.base_style = document.styles["Normal"]
        _east_asia(heading, "方正小标宋简体")
        heading.font.color.rgb = RGBColor(0xC0, 0, 0)
    normal = document.styles["Normal"]
    _east_asia(normal, BODY_FONT)
    normal.font.size = Pt(16)
    normal.paragraph_format.line_spacing = Pt(29)
    normal.paragraph_format.space_after = Pt(0)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    top, bottom, left, right = MARGINS_MM
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    # The header: the issuing office's name, typed in two goes.
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _runs(header, "{{单", "位}}", "舆情简报", size=10.5)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _runs(footer, "第 ", size=12)
    _page_field(footer)
    _runs(footer, " 页", size=12)

    _runs(document.add_paragraph(), "{{", "密级", "}}", font="黑体")
    name = document.add_paragraph()
    name.alignment = WD_ALIGN_PARAGRAPH.CENTER
    name.paragraph_format.line_spacing = Pt(54)
    _runs(name, "{{简报", "名称}}", font="方正小标宋简体", size=36, red=True)
    issue = document.add_paragraph()
    issue.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _runs(issue, "{", "{期号}", "}")
    line = document.add_paragraph()
    line.paragraph_format.tab_stops.add_tab_stop(Mm(156), WD_TAB_ALIGNMENT.RIGHT)
    _runs(line, "{{单位}}编\t签发人：", "{{签", "发人}}", "　", "｛｛日期｝｝")  # full-width braces too
    _rule(line, "bottom")
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(16)
    _runs(title, "{{ 标题 }}", font="方正小标宋简体", size=22)
    _runs(document.add_paragraph(), "{{正", "文}}")
    # The 版记: a table with the recipients, an unknown placeholder, and who printed it when.
    document.add_paragraph()
    table = document.add_table(rows=2, cols=1)
    _runs(table.cell(0, 0).paragraphs[0], "报：区委办公室，区政府办公室。联系人：{{联系人}}", size=14)
    _runs(table.cell(1, 0).paragraphs[0], "{{单", "位}}　　{{日期}}印发", size=14)
    document.save(str(path))
    return path
