"""An office's own Word template (YUQING_BRIEFING_DOCX_TEMPLATE): placeholders filled across runs in
the header, body and tables, the body where ``{{正文}}`` was, the template's page and styles kept,
clear errors for a template that cannot be used."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml import OxmlElement
from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from briefing.compute import compute_briefing
from briefing.docx import to_docx
from briefing.docx_template import ENV, PLACEHOLDERS, _fill
from briefing.errors import TemplateError
from briefing.model import Briefing
from briefing.outline import build_outline
from briefing.period import period_of
from briefing.render import render, write_briefing
from briefing.template import SECTIONS, Template
from tests.briefing.office_template import BEFORE_BODY, BODY_FONT, MARGINS_MM, make_office_template
from tests.briefing.printing import page_count, page_sizes_mm, require_libreoffice
from tests.briefing.samples import DAY, NOW
from yuqing.cli import main
from yuqing.settings import Settings

TEMPLATE = Template(department="某区网信办", issuer="某区网信办舆情科", signer="张明")


@pytest.fixture
def briefing(archive: EmbeddedArchive, ledger: Engine) -> Briefing:
    return compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW, template=TEMPLATE)


def _mm(length: object) -> int:
    return round(float(length.mm))  # type: ignore[attr-defined]


def test_the_setting_names_the_word_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ENV == "YUQING_BRIEFING_DOCX_TEMPLATE"
    settings = Settings.from_env({ENV: "/etc/yuqing/简报模板.docx"})
    assert settings.briefing_docx_template == Path("/etc/yuqing/简报模板.docx")
    assert Settings().briefing_docx_template is None  # unset: the built-in layout


def test_placeholders_split_across_runs_are_filled() -> None:
    document = Document()
    paragraph = document.add_paragraph()
    for text in ("前", "{", "{单", "位", "}}中{{期号}}{{", "未知}}", "后｛｛ 日期 ｝｝"):
        paragraph.add_run(text)
    paragraph.runs[1].bold = True
    left = _fill(paragraph._p, {"单位": "某区网信办", "期号": "2026年第64期", "日期": "2026年3月6日"})
    assert left == ["未知"]
    assert paragraph.text == "前某区网信办中2026年第64期{{未知}}后2026年3月6日"
    # The value is written where the placeholder starts, in that run's formatting.
    assert [run.text for run in paragraph.runs][:4] == ["前", "某区网信办", "", ""]
    assert paragraph.runs[1].bold


def test_an_office_template_is_filled_and_the_body_written_at_its_place(
    briefing: Briefing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    template = make_office_template(tmp_path / "简报模板.docx")
    with caplog.at_level(logging.WARNING, logger="briefing.docx_template"):
        path = write_briefing(briefing, tmp_path / "out" / "舆情日报-2026-03-05.docx", docx_template=template)
    document = Document(str(path))
    section = document.sections[0]
    # The header (placeholder split over two runs), the 版头 and the title, filled.
    assert section.header.paragraphs[0].text == "某区网信办舆情科舆情简报"
    texts = [p.text for p in document.paragraphs]
    assert texts[:BEFORE_BODY] == [
        TEMPLATE.header,
        "舆情日报",
        "2026年第64期",
        "某区网信办舆情科编\t签发人：张明　2026年3月6日",
        "2026年03月05日舆情日报",
    ]
    # The body where {{正文}} was: the first heading right after the title, the 版记 after the body.
    assert texts[BEFORE_BODY] == "一、总体态势"
    assert "附件：待领导决策事项" in texts
    assert not any("正文" in text for text in texts)
    headings = [
        p.text for p in document.paragraphs if str(getattr(p.style, "name", "")).startswith("Heading")
    ]
    assert [h.split("、", 1)[-1].removeprefix("附件：") for h in headings] == list(SECTIONS.values())
    assert len(document.inline_shapes) == 2
    *body_tables, record = document.tables
    assert (
        record.cell(0, 0).text == "报：区委办公室，区政府办公室。联系人：{{联系人}}"
    )  # unknown: left visible
    assert record.cell(1, 0).text == "某区网信办舆情科　　2026年3月6日印发"
    builtin = Document(io.BytesIO(to_docx(build_outline(briefing, {}), None)))
    assert len(body_tables) == len(builtin.tables) == 6
    assert all(getattr(t.style, "name", None) == "Table Grid" for t in body_tables)
    body = document.element.body
    assert body.index(body_tables[-1]._tbl) < body.index(record._tbl)
    assert "联系人" in caplog.text and "正文" in caplog.text  # the warning names it and the known ones
    # The template's page, styles and footer are kept; the body's runs carry no fonts of their own.
    assert [_mm(section.page_width), _mm(section.page_height)] == [210, 297]
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [_mm(m) for m in margins] == list(MARGINS_MM)
    assert f'w:eastAsia="{BODY_FONT}"' in document.styles["Normal"].element.xml
    assert (
        "第 " in section.footer.paragraphs[0].text and not document.settings.odd_and_even_pages_header_footer
    )
    first = document.paragraphs[BEFORE_BODY + 1]
    assert first.text.startswith("本期") and "w:rFonts" not in first._p.xml and "w:sz " not in first._p.xml
    assert 'w:firstLineChars="200"' in first._p.xml
    # Headings the template lacked are added in the GB/T form: 黑体 and 楷体, black, the body's size.
    heading = document.styles["Heading 1"]
    assert 'w:eastAsia="黑体"' in heading.element.xml and "Theme" not in heading.element.xml
    assert heading.font.size.pt == 16 and heading.font.bold is False
    assert 'w:eastAsia="楷体"' in document.styles["Heading 2"].element.xml


def test_the_templates_own_headings_are_kept(briefing: Briefing, tmp_path: Path) -> None:
    template = make_office_template(tmp_path / "模板.docx", headings=True)
    document = Document(io.BytesIO(to_docx(build_outline(briefing, {}), template)))
    heading = document.styles["Heading 1"]
    assert 'w:eastAsia="方正小标宋简体"' in heading.element.xml
    assert str(heading.font.color.rgb) == "C00000"
    assert getattr(document.paragraphs[BEFORE_BODY].style, "name", None) == "Heading 1"


def test_a_word_template_file_dotx_is_used(briefing: Briefing, tmp_path: Path) -> None:
    docx = make_office_template(tmp_path / "模板.docx")
    dotx = tmp_path / "模板.dotx"
    with zipfile.ZipFile(docx) as source, zipfile.ZipFile(dotx, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "[Content_Types].xml":
                content = content.replace(b"document.main+xml", b"template.main+xml")
            target.writestr(item, content)
    document = Document(io.BytesIO(to_docx(build_outline(briefing, {}), dotx)))
    assert document.paragraphs[1].text == "舆情日报"


def _a_workbook(path: Path) -> None:
    from openpyxl import Workbook

    Workbook().save(str(path))


def _no_body(path: Path) -> None:
    document = Document()
    document.add_paragraph("{{单位}}")
    document.save(str(path))


def _two_bodies(path: Path) -> None:
    document = Document()
    document.add_paragraph("{{正文}}")
    document.add_paragraph("{{ 正文 }}")
    document.save(str(path))


def _shared_body(path: Path) -> None:
    document = Document()
    document.add_paragraph("正文如下：{{正文}}")
    document.save(str(path))


def _body_in_footer(path: Path) -> None:
    document = Document()
    document.sections[0].footer.paragraphs[0].add_run("{{正文}}")
    document.save(str(path))


def _body_in_a_table(path: Path) -> None:
    document = Document()
    document.add_table(rows=1, cols=1).cell(0, 0).paragraphs[0].add_run("{{正文}}")
    document.save(str(path))


def _body_in_a_text_box(path: Path) -> None:
    document = Document()
    run = document.add_paragraph().add_run()
    box = OxmlElement("w:txbxContent")
    inner = OxmlElement("w:p")
    inner_run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "{{正文}}"
    inner_run.append(text)
    inner.append(inner_run)
    box.append(inner)
    pict = OxmlElement("w:pict")
    pict.append(box)
    run._r.append(pict)
    document.save(str(path))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "Word 模板文件不存在（YUQING_BRIEFING_DOCX_TEMPLATE）"),
        (lambda path: path.write_text("不是 Word 文件", encoding="utf-8"), "不是 Word 文档（.docx）"),
        (lambda path: zipfile.ZipFile(path, "w").writestr("a.txt", "x"), "文件可能已损坏"),
        (_a_workbook, "不是 Word 文档（.docx）"),
        (_no_body, "没有 {{正文}}"),
        (_two_bodies, "{{正文}} 出现了 2 次"),
        (_shared_body, "须单独成段，所在段落还有文字“正文如下：”"),
        (_body_in_footer, "不能放在页眉或页脚中"),
        (_body_in_a_text_box, "不能放在表格、文本框或内容控件中"),
        (_body_in_a_table, "不能放在表格、文本框或内容控件中"),
    ],
)
def test_an_unusable_template_is_a_clear_chinese_error(
    briefing: Briefing, tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "办公室模板.docx"
    if make is not None:
        make(path)  # type: ignore[operator]
    with pytest.raises(TemplateError) as caught:
        to_docx(build_outline(briefing, {}), path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_the_command_line_uses_the_template_and_says_what_is_wrong(
    archive: EmbeddedArchive,
    ledger: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("YUQING_HOME", str(tmp_path / "home"))
    out = tmp_path / "日报.docx"
    monkeypatch.setenv(ENV, str(make_office_template(tmp_path / "模板.docx")))
    with pytest.raises(SystemExit) as exit_info:
        main(["briefing", "--date", "2026-03-05", "--out", str(out)])
    assert exit_info.value.code in (0, None)
    assert Document(str(out)).paragraphs[1].text == "舆情日报"
    monkeypatch.setenv(ENV, str(tmp_path / "丢失的模板.docx"))
    with pytest.raises(SystemExit) as exit_info:
        main(["briefing", "--date", "2026-03-05", "--out", str(tmp_path / "又一份.docx")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "生成简报失败" in error and "丢失的模板.docx" in error and "Word 模板文件不存在" in error
    assert not (tmp_path / "又一份.docx").exists()  # nothing written in the built-in layout instead


def test_markdown_and_html_ignore_the_word_template(
    briefing: Briefing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "丢失的模板.docx"
    assert "# 舆情日报" in render(briefing, ".md", docx_template=missing).decode("utf-8")
    assert "<h1>" in render(briefing, ".html", docx_template=missing).decode("utf-8")
    assert set(PLACEHOLDERS) >= {"单位", "期号", "日期", "签发人", "标题", "密级", "正文"}


def test_libreoffice_prints_a_template_briefing_on_a4(
    briefing: Briefing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_libreoffice()
    template = make_office_template(tmp_path / "模板.docx")
    path = write_briefing(briefing, tmp_path / "舆情日报-2026-03-05.docx", pdf=True, docx_template=template)
    content = path.with_suffix(".pdf").read_bytes()
    assert page_sizes_mm(content) == {(210, 297)}
    assert 2 <= page_count(content) <= 8
