"""The Word, Markdown and HTML files: sections, tables and images present; post text escaped."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from docx import Document
from docx.shared import Length
from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from briefing.compute import compute_briefing
from briefing.period import period_of
from briefing.render import render, write_briefing
from briefing.template import SECTIONS, Template
from tests.briefing.printing import page_count, page_number_sides, page_sizes_mm, require_libreoffice
from tests.briefing.samples import DAY, NOW, XSS

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _mm(*lengths: Length | None) -> list[int]:
    return [round(length.mm) if length is not None else -1 for length in lengths]


def _headings(document: object) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]  # type: ignore[attr-defined]


def test_docx_has_the_sections_tables_and_charts(
    archive: EmbeddedArchive, ledger: Engine, tmp_path: Path
) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    path = write_briefing(b, tmp_path / "out" / "舆情日报-2026-03-05.docx")
    document = Document(str(path))
    section = document.sections[0]
    assert _mm(section.page_width, section.page_height) == [210, 297]  # A4
    margins = _mm(section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert margins == [37, 35, 28, 26]
    assert document.paragraphs[0].text == Template().header  # 密级/内部资料 line above the 版头
    assert document.paragraphs[1].text == "舆情日报" and document.paragraphs[2].text == "2026年第64期"
    assert document.paragraphs[3].text.startswith(Template().department + "编\t")
    footer = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "— " in footer and " —" in footer
    normal = document.styles["Normal"]
    assert normal.font.size.pt == 16 and 'w:eastAsia="仿宋_GB2312"' in normal.element.xml
    assert 'w:eastAsia="黑体"' in document.styles["Heading 1"].element.xml
    assert 'w:eastAsia="楷体"' in document.styles["Heading 2"].element.xml
    assert "方正小标宋简体" in document.paragraphs[1]._p.xml
    headings = _headings(document)
    assert [h.split("、", 1)[-1].removeprefix("附件：") for h in headings] == list(SECTIONS.values())
    assert headings[0] == "一、总体态势" and headings[-1] == "附件：待领导决策事项"
    assert len(document.inline_shapes) == 2  # volume and topic charts
    first_rows = [[cell.text for cell in table.rows[0].cells] for table in document.tables]
    # Titles link to the posts; no column of raw URLs; the post column is the widest.
    assert all("链接" not in row for row in first_rows)
    events = next(t for t in document.tables if t.rows[0].cells[1].text == "代表帖子")
    assert "w:hyperlink" in events.rows[1].cells[1]._tc.xml
    widths = _mm(*(column.w for column in events._tbl.tblGrid.gridCol_lst))
    assert widths[1] == max(widths) and widths[1] > sum(widths) * 0.35
    assert ["来源", "本期", "上期", "变化"] in first_rows
    assert ["责任单位", "新增", "办结", "超期未办结", "响应率", "按时办结率"] in first_rows
    assert ["工单编号", "责任单位", "当前状态", "待决事项", "摘要", "办理时限"] in first_rows
    ledger_table = next(t for t in document.tables if t.rows[0].cells[0].text == "责任单位")
    assert ledger_table.rows[-1].cells[0].text == "合计"
    assert ledger_table.rows[-1].cells[1].text == str(b.ledger.total.opened)  # type: ignore[union-attr]
    body = "\n".join(p.text for p in document.paragraphs)
    assert f"共监测到舆情信息 {b.headline.total.current} 条" in body
    # Untrusted text stays text in Word: the title is there literally.
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert any(XSS in cell for cell in cells)


def test_an_empty_period_gives_an_honest_valid_document(tmp_path: Path) -> None:
    archive = EmbeddedArchive(tmp_path / "empty.db")
    try:
        b = compute_briefing(archive, None, period_of(DAY, "day"), now=NOW)
    finally:
        archive.close()
    document = Document(io.BytesIO(render(b, ".docx")))
    body = [p.text for p in document.paragraphs]
    assert "本期无舆情数据。" in body
    assert "台账暂无数据（回应台账尚未启用）。" in body
    assert len(document.inline_shapes) == 0 and len(document.tables) == 0
    # No figure besides the (zero) count of posts: no table, no chart, no rate.
    assert not any("%" in text for text in body)


def test_an_empty_period_with_tickets_still_reports_the_ledger(tmp_path: Path, ledger: Engine) -> None:
    archive = EmbeddedArchive(tmp_path / "empty.db")
    try:
        b = compute_briefing(archive, ledger, period_of(DAY + timedelta(days=60), "day"), now=NOW)
    finally:
        archive.close()
    text = render(b, ".md").decode("utf-8")
    assert "本期无舆情数据。" in text
    assert "截至" in text and "超期未办结" in text  # old overdue tickets are still overdue


def test_html_escapes_post_text(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    page = render(b, ".html").decode("utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;工地欠薪" in page
    assert page.count("<img ") == 2 and 'href="https://example.gov.cn/' in page


def test_markdown_escapes_post_text(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    text = render(b, ".md").decode("utf-8")
    assert "<script>" not in text and r"\<script\>" in text
    assert text.count("data:image/png;base64,") == 2


def test_a_template_drops_sections(archive: EmbeddedArchive, ledger: Engine) -> None:
    template = Template(department="某区网信办", sections=("headline", "ledger"))
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW, template=template)
    document = Document(io.BytesIO(render(b, ".docx")))
    assert _headings(document) == ["一、总体态势", "二、回应台账"]
    assert len(document.inline_shapes) == 0
    assert "某区网信办编" in document.paragraphs[3].text


def test_page_numbers_are_odd_right_even_left(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    document = Document(io.BytesIO(render(b, ".docx")))
    assert document.settings.odd_and_even_pages_header_footer  # w:evenAndOddHeaders in settings.xml
    assert document.settings.element.find(f"{W}evenAndOddHeaders") is not None
    for section in document.sections:
        odd, even = section.footer, section.even_page_footer
        assert not odd.is_linked_to_previous and not even.is_linked_to_previous
        for footer, side, indent in ((odd, "right", "w:right"), (even, "left", "w:left")):
            (paragraph,) = footer.paragraphs
            xml = paragraph._p.xml
            assert f'<w:jc w:val="{side}"/>' in xml
            assert f'{indent}="280"' in xml  # 空一字: one 4号 character, 14 pt = 280 twips
            assert paragraph.text == "— 1 —" and "<w:instrText" in xml and " PAGE " in xml
            assert {run.font.size.pt for run in paragraph.runs} == {14}  # 4号
            assert xml.count('w:eastAsia="宋体"') == len(paragraph.runs) == 3


def test_libreoffice_prints_the_docx_on_a4(archive: EmbeddedArchive, ledger: Engine, tmp_path: Path) -> None:
    require_libreoffice()
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    path = write_briefing(b, tmp_path / "舆情日报-2026-03-05.docx", pdf=True)
    pdf = path.with_suffix(".pdf")
    assert pdf.exists(), "a PDF is written beside the .docx"
    content = pdf.read_bytes()
    assert page_sizes_mm(content) == {(210, 297)}  # every page A4 portrait
    pages = page_count(content)
    assert 2 <= pages <= 8, pages
    # GB/T 9704-2012 7.5: odd pages' numbers at the right, even pages' at the left.
    assert page_number_sides(pdf) == ["right", "left"] * (pages // 2) + ["right"] * (pages % 2)
