"""The Word, Markdown and HTML files: sections, tables and images present; post text escaped."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from docx import Document
from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from briefing.compute import compute_briefing
from briefing.period import period_of
from briefing.render import render, write_briefing
from briefing.template import SECTIONS, Template
from tests.briefing.samples import DAY, NOW, XSS


def _headings(document: object) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]  # type: ignore[attr-defined]


def test_docx_has_the_sections_tables_and_charts(
    archive: EmbeddedArchive, ledger: Engine, tmp_path: Path
) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    path = write_briefing(b, tmp_path / "out" / "舆情日报-2026-03-05.docx")
    document = Document(str(path))
    assert document.sections[0].header.paragraphs[0].text == Template().header
    assert document.paragraphs[0].text == "舆情日报"
    headings = _headings(document)
    assert [h.split("、", 1)[-1].removeprefix("附件：") for h in headings] == list(SECTIONS.values())
    assert headings[0] == "一、总体态势" and headings[-1] == "附件：待领导决策事项"
    assert len(document.inline_shapes) == 2  # volume and topic charts
    first_rows = [[cell.text for cell in table.rows[0].cells] for table in document.tables]
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
    assert "某区网信办" in document.paragraphs[1].text
