"""The briefing as a Word document (python-docx) in the GB/T 9704-2012 layout on A4.

Page: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; page numbers "— 1 —" (a PAGE
field) centred in the footer. Above the 版头 the 密级/内部资料 line; the 版头 is the briefing's name in
red 方正小标宋简体, the 期号, then 编发单位, 签发人 and the date over a red rule. Body 仿宋_GB2312 三号
(16 pt), level-1 headings 黑体, level-2 楷体. Every font is set in the East Asian slot (w:eastAsia),
which is where Word looks for Chinese text, and listed in the font table with the font to use where
it is missing (w:altName: 宋体, 仿宋, 黑体, 楷体; LibreOffice then falls back to Noto Serif/Sans CJK).
Tables get column widths from their content, and post titles link to the posts instead of a column
of raw URLs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from briefing.outline import LINK, Heading, Image, Masthead, Outline, Paragraph, Table

TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体"
# Where a font is missing: Word uses the w:altName of the font table.
FALLBACKS = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", HEADING_FONT: "黑体", SUBHEADING_FONT: "楷体"}
LATIN_FONT = "Times New Roman"
BODY_PT, TABLE_PT, TITLE_PT, MASTHEAD_PT, PAGE_NUMBER_PT = 16, 12, 22, 36, 14
RED = "C00000"
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]  # 156 mm
IMAGE_WIDTH_MM = TEXT_WIDTH_MM
CELL_PADDING_MM = 4.6  # Word's default cell margins (1.9 mm a side) and a little room
TEXT_SHARE = 0.42
SHORT_COLUMN = 22  # half-ems: a column this narrow is kept whole (dates, counts, unit names)
# The column whose lines each table links to the URLs of its LINK column, line for line.
LINKED_COLUMNS = {"events": "代表帖子", "risks": "标题"}
# XML 1.0 cannot hold these; a crawled post may carry them, and python-docx refuses the whole text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_WEB = re.compile(r"https?://\S+\Z")


def clean(text: str) -> str:
    """``text`` without the control characters a Word document cannot hold."""
    return _CONTROL.sub("", text)


def width(text: str) -> int:
    """Display width of the longest line of ``text``: a CJK character is two, others one."""
    return max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in line) for line in text.split("\n")), default=0)


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]], total: float) -> list[float]:
    """Column widths in mm summing to ``total``: a short column (numbers, names) as wide as its
    longest line, and what is left shared by the long text columns in proportion to their text."""
    unit = TABLE_PT * 0.3528 / 2  # mm per half-em at the table's size
    natural = [
        max(width(header), max((width(row[i]) for row in rows), default=0), 2)
        for i, header in enumerate(headers)
    ]
    need = [n * unit + CELL_PADDING_MM for n in natural]
    if sum(need) <= total:  # everything fits on one line: widen all columns alike to the full width
        return [total * w / sum(need) for w in need]
    short = [n <= SHORT_COLUMN for n in natural]
    fixed = sum(w for w, is_short in zip(need, short, strict=True) if is_short)
    long_text = sum(min(n, 80) for n, is_short in zip(natural, short, strict=True) if not is_short)
    if fixed >= total * 0.75 or not long_text:  # many short columns: share in proportion
        widths = [total * w / sum(need) for w in need]
    else:
        widths = [
            w if is_short else (total - fixed) * min(n, 80) / long_text
            for w, n, is_short in zip(need, natural, short, strict=True)
        ]
    # The longest text (the representative posts) gets at least TEXT_SHARE of the row, the others less.
    main = natural.index(max(natural))
    if natural[main] > SHORT_COLUMN and widths[main] < total * TEXT_SHARE:
        rest = (total - total * TEXT_SHARE) / (total - widths[main])
        widths = [total * TEXT_SHARE if i == main else w * rest for i, w in enumerate(widths)]
    return widths


def _fonts(element: Any, east_asia: str) -> None:
    from docx.oxml.ns import qn

    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)
    for slot in ("w:ascii", "w:hAnsi"):
        fonts.set(qn(slot), LATIN_FONT)


def _run(paragraph: Any, text: str, *, font: str = BODY_FONT, size: float = BODY_PT, **style: Any) -> Any:
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(clean(text))
    _fonts(run._r, font)
    run.font.size = Pt(size)
    if style.get("bold"):
        run.bold = True
    if color := style.get("color"):
        run.font.color.rgb = RGBColor.from_string(color)
    return run


def _font_table(document: Any) -> None:
    """List the Chinese fonts in the font table with the font to use where each is missing."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    part = document.part.part_related_by(RT.FONT_TABLE)
    fonts = parse_xml(part.blob)
    for name, alternative in FALLBACKS.items():
        family = "modern" if name == HEADING_FONT else "roman"
        fonts.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alternative}"/>'
                f'<w:charset w:val="86"/><w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>'
            )
        )
    from lxml import etree

    part._blob = etree.tostring(fonts, xml_declaration=True, encoding="UTF-8", standalone=True)


def _styles(document: Any) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    normal = document.styles["Normal"]
    _fonts(normal.element, BODY_FONT)
    normal.font.size = Pt(BODY_PT)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(28)  # 公文: 22 lines a page of 三号 text
    normal.paragraph_format.space_after = Pt(0)
    for name, font in (("Title", TITLE_FONT), ("Heading 1", HEADING_FONT), ("Heading 2", SUBHEADING_FONT)):
        style = document.styles[name]
        _fonts(style.element, font)
        style.font.size = Pt(TITLE_PT if name == "Title" else BODY_PT)
        style.font.bold = False
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)  # not python-docx's blue
        style.paragraph_format.space_before = Pt(0)
        style.paragraph_format.space_after = Pt(0)
        style.paragraph_format.line_spacing = Pt(28)
        border = style.element.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr")
        if border is not None:  # the Title style's blue rule
            style.element.pPr.remove(border)
    document.styles["Heading 1"].paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    document.styles["Heading 2"].paragraph_format.first_line_indent = Pt(BODY_PT * 2)


def _page(document: Any) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.footer_distance = Mm(28)  # the page number sits 7 mm below the text block
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "— ", font="宋体", size=PAGE_NUMBER_PT)
    _page_field(_run(footer, "", font="宋体", size=PAGE_NUMBER_PT))
    _run(footer, " —", font="宋体", size=PAGE_NUMBER_PT)


def _page_field(run: Any) -> None:
    """Make ``run`` a PAGE field: begin, instruction, separate, a placeholder 1, end."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text == " PAGE " else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def _rule(paragraph: Any, color: str = RED, size: int = 12) -> None:
    """A rule under ``paragraph`` (the 版头's red line); ``size`` in eighths of a point."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "4"), ("w:color", color)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _masthead(document: Any, outline: Outline, masthead: Masthead) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.shared import Mm, Pt

    if outline.header:
        _run(document.add_paragraph(), outline.header, font=HEADING_FONT)
    name = document.add_paragraph()
    name.alignment = WD_ALIGN_PARAGRAPH.CENTER
    name.paragraph_format.line_spacing = Pt(MASTHEAD_PT * 1.5)
    name.paragraph_format.space_before = Pt(12)
    _run(name, outline.title, font=TITLE_FONT, size=MASTHEAD_PT, color=RED)
    issue = document.add_paragraph()
    issue.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(issue, masthead.issue)
    line = document.add_paragraph()
    line.paragraph_format.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
    right = f"签发人：{masthead.signer}　{masthead.issued}" if masthead.signer else masthead.issued
    _run(line, f"{masthead.issuer}编\t{right}")
    _rule(line)


def _hyperlink(paragraph: Any, text: str, url: str, size: float) -> None:
    """``text`` as a link to ``url`` (blue, underlined) in ``paragraph``."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True))
    run = _run(paragraph, text, size=size, color="1F4E9D")
    run.font.underline = True
    link.append(run._r)  # moves the run into the link
    paragraph._p.append(link)


def _table(document: Any, block: Table) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    keep = [i for i, header in enumerate(block.headers) if header != LINK]
    headers = [block.headers[i] for i in keep]
    rows = [[row[i] for i in keep] for row in block.rows]
    links = [
        row[block.headers.index(LINK)].split("\n") if LINK in block.headers else [] for row in block.rows
    ]
    linked = headers.index(LINKED_COLUMNS[block.name]) if LINKED_COLUMNS.get(block.name) in headers else None
    widths = column_widths(headers, rows, TEXT_WIDTH_MM)
    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for column, millimetres in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        column.w = Mm(millimetres)
    for number, (row, values) in enumerate(zip(table.rows, (headers, *rows), strict=True)):
        for index, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            cell.width = Mm(widths[index])
            lines = clean(value).split("\n")
            for line_number, text in enumerate(lines):
                paragraph = cell.paragraphs[0] if line_number == 0 else cell.add_paragraph()
                paragraph.paragraph_format.line_spacing = Pt(TABLE_PT * 1.35)
                paragraph.paragraph_format.first_line_indent = Pt(0)
                url = links[number - 1][line_number] if number and index == linked else ""
                url = url if line_number < len(links[number - 1] if number else []) else ""
                if url and _WEB.match(url):
                    title, _, rest = text.partition("》")
                    if rest or text.endswith("》"):
                        _hyperlink(paragraph, title + "》", url, TABLE_PT)
                        _run(paragraph, rest, size=TABLE_PT)
                    else:
                        _hyperlink(paragraph, text, url, TABLE_PT)
                else:
                    _run(paragraph, text, size=TABLE_PT, bold=number == 0)
    # The header row repeats on every page a table runs over.
    header_properties = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_properties.append(repeat)


def to_docx(outline: Outline) -> bytes:
    """The .docx bytes of ``outline``."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = Document()
    _styles(document)
    _font_table(document)
    _page(document)
    if outline.masthead is not None:
        _masthead(document, outline, outline.masthead)
        subtitle = document.add_paragraph(style="Title")
        subtitle.paragraph_format.space_before = Pt(16)
        subtitle.paragraph_format.space_after = Pt(16)
        subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(subtitle, outline.masthead.heading, font=TITLE_FONT, size=TITLE_PT)
        generated = document.add_paragraph()
        generated.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(generated, outline.subtitle, size=TABLE_PT)
    else:
        title = document.add_paragraph(style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(title, outline.title, font=TITLE_FONT, size=TITLE_PT)
        subtitle = document.add_paragraph()
        subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(subtitle, outline.subtitle)
    for block in outline.blocks:
        if isinstance(block, Heading):
            heading = document.add_paragraph(style=f"Heading {min(block.level, 2)}")
            _run(heading, block.text, font=HEADING_FONT if block.level <= 1 else SUBHEADING_FONT)
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
            _run(paragraph, block.text)
        elif isinstance(block, Table):
            _table(document, block)
            document.add_paragraph()
        elif isinstance(block, Image) and block.png is not None:
            document.add_picture(io.BytesIO(block.png), width=Mm(IMAGE_WIDTH_MM))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            document.paragraphs[-1].paragraph_format.line_spacing = 1.0
            caption = document.add_paragraph()
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(caption, block.caption, size=TABLE_PT + 2)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
