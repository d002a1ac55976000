"""The briefing as a Word document (python-docx): header line, title, sections, tables, charts."""

from __future__ import annotations

import io
import re

from briefing.outline import Heading, Image, Outline, Paragraph, Table

BODY_FONT, HEADING_FONT = "仿宋", "黑体"
IMAGE_WIDTH_CM = 16
# XML 1.0 cannot hold these; a crawled post may carry them, and python-docx refuses the whole text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """``text`` without the control characters a Word document cannot hold."""
    return _CONTROL.sub("", text)


def to_docx(outline: Outline) -> bytes:
    """The .docx bytes of ``outline``."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    for name, font in (("Normal", BODY_FONT), ("Title", HEADING_FONT), ("Heading 1", HEADING_FONT)):
        style = document.styles[name]
        style.font.name = font
        # Word picks the font of Chinese text from the East Asian slot, not from w:ascii.
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    document.styles["Normal"].font.size = Pt(11)
    header = document.sections[0].header.paragraphs[0]
    header.text = clean(outline.header)
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = document.add_heading(clean(outline.title), level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle = document.add_paragraph(clean(outline.subtitle))
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for block in outline.blocks:
        if isinstance(block, Heading):
            document.add_heading(clean(block.text), level=block.level)
        elif isinstance(block, Paragraph):
            document.add_paragraph(clean(block.text))
        elif isinstance(block, Table):
            table = document.add_table(rows=1 + len(block.rows), cols=len(block.headers))
            table.style = "Table Grid"
            for row, values in zip(table.rows, (block.headers, *block.rows), strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = clean(value)
            for cell in table.rows[0].cells:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
        elif isinstance(block, Image) and block.png is not None:
            document.add_picture(io.BytesIO(block.png), width=Cm(IMAGE_WIDTH_CM))
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption = document.add_paragraph(clean(block.caption))
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
