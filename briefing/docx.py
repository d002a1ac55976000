"""The briefing as a Word document (python-docx) in the GB/T 9704-2012 layout on A4.

Page: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; page numbers "— 1 —" (a PAGE
field, 4号 宋体) in the footer, odd pages' at the right and even pages' at the left, one character in
from the edge of the text block (odd and even footers, w:evenAndOddHeaders in the settings). Above
the 版头 the 密级/内部资料 line; the 版头 is the briefing's name in red 方正小标宋简体, the 期号, then
编发单位, 签发人 and the date over a red rule. Body 仿宋_GB2312 三号 (16 pt), level-1 headings 黑体,
level-2 楷体. Every font is set in the East Asian slot (w:eastAsia), which is where Word looks for
Chinese text, and listed in the font table with the font to use where it is missing (w:altName: 宋体,
仿宋, 黑体, 楷体; LibreOffice then falls back to Noto Serif/Sans CJK). Tables get column widths from
their content, and post titles link to the posts instead of a column of raw URLs.

With an office's own Word file (``YUQING_BRIEFING_DOCX_TEMPLATE``) the document is that file with its
placeholders filled and the blocks written where it says ``{{正文}}`` (:mod:`briefing.docx_template`);
the blocks then carry no fonts of their own and take the template's styles.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefing.outline import LINK, Block, Heading, Image, Masthead, Outline, Paragraph, Table

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
LINKED_COLUMNS = {"events": "代表帖子", "risks": "标题", "top_posts": "标题"}
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
    for theme in ("w:eastAsiaTheme", "w:asciiTheme", "w:hAnsiTheme"):  # a theme font wins over a named one
        fonts.attrib.pop(qn(theme), None)


def _run(
    paragraph: Any, text: str, *, font: str | None = BODY_FONT, size: float | None = BODY_PT, **style: Any
) -> Any:
    """A run of ``text``; ``font`` and ``size`` None leave them to the paragraph's style."""
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(clean(text))
    if font is not None:
        _fonts(run._r, font)
    if size is not None:
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
    from docx.shared import Mm

    document.settings.odd_and_even_pages_header_footer = True  # w:evenAndOddHeaders
    for section in document.sections:
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
        section.footer_distance = Mm(28)  # the page number sits 7 mm below the text block
        _page_number(section.footer.paragraphs[0], odd=True)
        _page_number(section.even_page_footer.paragraphs[0], odd=False)


def _page_number(paragraph: Any, *, odd: bool) -> None:
    """The page number "— N —" in 4号 宋体: an odd page's at the right, an even page's at the
    left, one character in (GB/T 9704-2012 7.5: 单页码居右空一字，双页码居左空一字)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    indent = Pt(PAGE_NUMBER_PT)  # 空一字: one 4号 character
    if odd:
        paragraph.paragraph_format.right_indent = indent
    else:
        paragraph.paragraph_format.left_indent = indent
    _run(paragraph, "— ", font="宋体", size=PAGE_NUMBER_PT)
    _page_field(_run(paragraph, "", font="宋体", size=PAGE_NUMBER_PT))
    _run(paragraph, " —", font="宋体", size=PAGE_NUMBER_PT)


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


@dataclass(frozen=True)
class Look:
    """How blocks are written: the width of the text block, and whether every run carries the
    built-in layout's fonts and sizes (``direct``) or takes them from the document's styles (an
    office's template)."""

    text_width_mm: float = TEXT_WIDTH_MM
    direct: bool = True
    body_pt: float = BODY_PT  # the body text's size, for a first-line indent of two characters

    def font(self, name: str) -> str | None:
        """``name`` in the built-in layout; None (the style's font) in a template."""
        return name if self.direct else None

    def size(self, points: float) -> float | None:
        """``points`` for body text in the built-in layout; None (the style's size) in a template."""
        return points if self.direct else None


def _hyperlink(paragraph: Any, text: str, url: str, size: float, look: Look) -> None:
    """``text`` as a link to ``url`` (blue, underlined) in ``paragraph``."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True))
    run = _run(paragraph, text, font=look.font(BODY_FONT), size=size, color="1F4E9D")
    run.font.underline = True
    link.append(run._r)  # moves the run into the link
    paragraph._p.append(link)


def _table(document: Any, block: Table, look: Look) -> None:
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
    widths = column_widths(headers, rows, look.text_width_mm)
    font = look.font(BODY_FONT)
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
                _no_indent(paragraph)
                url = links[number - 1][line_number] if number and index == linked else ""
                url = url if line_number < len(links[number - 1] if number else []) else ""
                if url and _WEB.match(url):
                    title, _, rest = text.partition("》")
                    if rest or text.endswith("》"):
                        _hyperlink(paragraph, title + "》", url, TABLE_PT, look)
                        _run(paragraph, rest, font=font, size=TABLE_PT)
                    else:
                        _hyperlink(paragraph, text, url, TABLE_PT, look)
                else:
                    _run(paragraph, text, font=font, size=TABLE_PT, bold=number == 0)
    # The header row repeats on every page a table runs over.
    header_properties = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_properties.append(repeat)


def _first_line_indent(paragraph: Any, look: Look) -> None:
    """Two characters in. In a template also as w:firstLineChars, which Word prefers (LibreOffice
    reads w:firstLine)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph.paragraph_format.first_line_indent = Pt(look.body_pt * 2)
    if not look.direct:
        paragraph._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")


def _no_indent(paragraph: Any) -> None:
    """No first-line indent, also where the style indents by characters (w:firstLineChars wins)."""
    from docx.oxml.ns import qn

    paragraph.paragraph_format.first_line_indent = 0
    paragraph._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "0")


def write_blocks(document: Any, blocks: Sequence[Block], look: Look) -> None:
    """Append ``blocks`` (headings, paragraphs, tables, charts) to the end of ``document``'s body."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    for block in blocks:
        if isinstance(block, Heading):
            heading = document.add_paragraph(style=f"Heading {min(block.level, 2)}")
            font = HEADING_FONT if block.level <= 1 else SUBHEADING_FONT
            _run(heading, block.text, font=look.font(font), size=look.size(BODY_PT))
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph()
            _first_line_indent(paragraph, look)
            _run(paragraph, block.text, font=look.font(BODY_FONT), size=look.size(BODY_PT))
        elif isinstance(block, Table):
            _table(document, block, look)
            document.add_paragraph()
        elif isinstance(block, Image) and block.png is not None:
            document.add_picture(io.BytesIO(block.png), width=Mm(min(IMAGE_WIDTH_MM, look.text_width_mm)))
            picture = document.paragraphs[-1]
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            picture.paragraph_format.line_spacing = 1.0
            _no_indent(picture)
            caption = document.add_paragraph()
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _no_indent(caption)
            _run(caption, block.caption, font=look.font(BODY_FONT), size=TABLE_PT + 2)


def to_docx(outline: Outline, template: Path | None = None) -> bytes:
    """The .docx bytes of ``outline``.

    ``template`` is an office's own Word file with placeholders (see :mod:`briefing.docx_template`;
    the entry points pass ``Settings.briefing_docx_template``); None is the built-in GB/T 9704
    layout. A template that cannot be used raises :class:`~briefing.errors.TemplateError` naming the file.
    """
    if template is not None:
        from briefing.docx_template import fill_template

        return fill_template(outline, template)
    return _builtin(outline)


def _builtin(outline: Outline) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

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
    write_blocks(document, outline.blocks, Look())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
