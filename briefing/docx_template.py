"""The briefing written into an office's own Word file (``YUQING_BRIEFING_DOCX_TEMPLATE``).

The office keeps its 版头, page setup, styles, fonts, header and footer in a .docx (or .dotx) and
writes placeholders where the briefing's values go: ``{{单位}}``, ``{{期号}}``, ``{{日期}}``,
``{{签发人}}``, ``{{标题}}``, ``{{密级}}``, ``{{简报名称}}``, ``{{副标题}}`` (half-width or full-width
braces, spaces inside allowed), in the body, tables, text boxes, headers and footers. Word splits
typed text into runs as it likes (spelling marks, edits, formatting); a placeholder is found in the
text of the whole paragraph and its value written into the run where it starts, keeping that run's
formatting. One paragraph of the body (not in a table or text box) holds nothing but ``{{正文}}``:
the briefing's headings, paragraphs, tables and charts replace it, written without fonts or sizes
of their own so they take the template's styles (标题 1/标题 2 for the headings, 正文 for the text;
tables and captions 小四).

A placeholder this module does not know stays in the document as typed and is named in a warning in
the log. A template that is missing, is not a Word file, or has no (or more than one, or a shared)
``{{正文}}`` paragraph raises :class:`~briefing.errors.TemplateError` naming the file, in Chinese:
the command line and the schedule's log show it; nothing falls back to the built-in layout.
"""

from __future__ import annotations

import copy
import io
import logging
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from briefing.docx import (
    HEADING_FONT,
    SUBHEADING_FONT,
    TEXT_WIDTH_MM,
    Look,
    _fonts,
    clean,
    write_blocks,
)
from briefing.errors import TemplateError
from briefing.outline import Outline
from yuqing.settings import PREFIX

log = logging.getLogger(__name__)

SETTING = "briefing_docx_template"
ENV = PREFIX + SETTING.upper()  # YUQING_BRIEFING_DOCX_TEMPLATE
BODY = "正文"
PLACEHOLDERS: dict[str, str] = {
    "密级": "the 密级/内部资料 line (the YAML template's header)",
    "简报名称": "the briefing's name: 舆情日报, 舆情周报, 舆情月报 (titles)",
    "标题": "the title: 2026年03月05日舆情日报",
    "副标题": "department, period and time of generation in one line",
    "期号": "2026年第64期 (issue_format)",
    "单位": "编发单位 (issuer, or the department)",
    "签发人": "签发人 (signer; empty when not set)",
    "日期": "the date issued: 2026年3月6日",
    BODY: "the paragraph the briefing's body replaces",
}
"""The placeholders a template may use, with what each becomes."""

# {{名称}}, {{ 名称 }}, and the same typed with a Chinese input method's full-width braces.
PLACEHOLDER = re.compile(r"[{｛]{2}\s*([^{}｛｝\s]{1,20})\s*[}｝]{2}")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _T, _BODY = f"{_W}p", f"{_W}t", f"{_W}body"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_CONTENT_TYPES = "[Content_Types].xml"
_DOTX = b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
_DOCX = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def placeholder_values(outline: Outline) -> dict[str, str]:
    """What each placeholder but ``{{正文}}`` becomes for ``outline``."""
    masthead = outline.masthead
    values = {
        "密级": outline.header,
        "简报名称": outline.title,
        "标题": masthead.heading if masthead else outline.title,
        "副标题": outline.subtitle,
        "期号": masthead.issue if masthead else "",
        "单位": masthead.issuer if masthead else "",
        "签发人": masthead.signer if masthead else "",
        "日期": masthead.issued if masthead else "",
    }
    return {name: clean(value) for name, value in values.items()}


def fill_template(outline: Outline, path: Path) -> bytes:
    """The .docx bytes of ``outline`` written into the office's template at ``path``."""
    document = _open(path)
    mark, unknown = _filled(document, path, placeholder_values(outline))
    if unknown:
        log.warning(
            "event=briefing-template-unknown-placeholders path=%s names=%s known=%s",
            path,
            ",".join(sorted(unknown)),
            ",".join(PLACEHOLDERS),
        )
    body_pt = _body_size(document)
    _ensure_styles(document, body_pt)
    look = Look(text_width_mm=_text_width(document, mark), direct=False, body_pt=body_pt)
    _insert_body(document, mark, outline, look)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def check_template(path: Path) -> None:
    """Raise the :class:`TemplateError` :func:`fill_template` would raise for ``path`` (a missing or
    unreadable file, not a Word document, no single ``{{正文}}`` paragraph), without writing anything:
    a page can say what is wrong before anyone asks for the file."""
    _filled(_open(path), path, dict.fromkeys((name for name in PLACEHOLDERS if name != BODY), ""))


def _filled(document: Any, path: Path, values: Mapping[str, str]) -> tuple[Any, set[str]]:
    """Fill the placeholders of ``document``; the ``{{正文}}`` paragraph and the unknown names left."""
    unknown: set[str] = set()
    marks: list[Any] = []
    for story, paragraph in _paragraphs(document):
        for name in _fill(paragraph, values):
            if name != BODY:
                unknown.add(name)
            elif story != "body":
                raise TemplateError(str(path), "Word 模板的 {{正文}} 须写在正文里，不能放在页眉或页脚中")
            else:
                marks.append(paragraph)
    return _body_mark(path, marks), unknown


def _open(path: Path) -> Any:
    """The template as a python-docx Document; a .dotx is opened as the document it makes."""
    from docx import Document

    setting = f"（{ENV}）"
    if not path.is_file():
        raise TemplateError(str(path), f"Word 模板文件不存在{setting}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(str(path), f"Word 模板文件无法读取{setting}：{exc.strerror or exc}") from exc
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TemplateError(
            str(path), f"不是 Word 文档（.docx）{setting}；旧版 .doc 或 .wps 请在 Word/WPS 中另存为 .docx"
        )
    try:
        return Document(io.BytesIO(_as_document(data)))
    except ValueError as exc:
        if "not a Word file" not in str(exc):
            raise TemplateError(str(path), f"Word 模板无法打开{setting}，文件可能已损坏：{exc}") from exc
        raise TemplateError(str(path), f"不是 Word 文档（.docx）{setting}，可能是表格或演示文稿") from exc
    except Exception as exc:  # any failure to read an office's file means it cannot be used
        raise TemplateError(
            str(path), f"Word 模板无法打开{setting}，文件可能已损坏：{type(exc).__name__}: {exc}"
        ) from exc


def _as_document(data: bytes) -> bytes:
    """``data`` with a Word template's (.dotx) main part typed as a document's, which python-docx opens."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        try:
            types = source.read(_CONTENT_TYPES)
        except KeyError:
            return data  # python-docx says what is wrong
        if _DOTX not in types:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                content = source.read(item)
                if item.filename == _CONTENT_TYPES:
                    content = content.replace(_DOTX, _DOCX)
                target.writestr(item, content)
    return out.getvalue()


def _paragraphs(document: Any) -> Iterator[tuple[str, Any]]:
    """Every paragraph of the body (tables and text boxes included), the headers and the footers."""
    from docx.parts.hdrftr import FooterPart, HeaderPart

    yield from (("body", p) for p in document.element.body.iter(_P))
    for part in document.part.package.iter_parts():
        if isinstance(part, HeaderPart | FooterPart):
            yield from (("header", p) for p in part.element.iter(_P))


def _own_texts(paragraph: Any) -> list[Any]:
    """The w:t elements of ``paragraph`` itself, not of the paragraphs in its text boxes."""
    return [t for t in paragraph.iter(_T) if next(t.iterancestors(_P)) is paragraph]


def _fill(paragraph: Any, values: Mapping[str, str]) -> list[str]:
    """Replace the known placeholders in ``paragraph``, across runs; the names left, in order."""
    texts = _own_texts(paragraph)
    joined = "".join(t.text or "" for t in texts)
    if not PLACEHOLDER.search(joined):
        return []
    starts = []
    offset = 0
    for t in texts:
        starts.append(offset)
        offset += len(t.text or "")
    left: list[str] = []
    # From the last match back: a replacement changes only text at and after its own start.
    for match in reversed(list(PLACEHOLDER.finditer(joined))):
        name = match.group(1)
        if name not in values:
            left.insert(0, name)
            continue
        begin, end = match.span()
        first = True
        for t, start in zip(texts, starts, strict=True):
            text = t.text or ""
            stop = start + len(text)
            if stop <= begin or start >= end:
                continue
            head = text[: max(begin - start, 0)]
            tail = text[end - start :] if end < stop else ""
            t.text = head + (values[name] if first else "") + tail
            t.set(_XML_SPACE, "preserve")
            first = False
    return left


def _body_mark(path: Path, marks: list[Any]) -> Any:
    """The one paragraph that holds only ``{{正文}}``."""
    # In the body itself: the schedule looks for "本期无舆情数据" among the body's own paragraphs.
    if any(mark.getparent().tag != _BODY for mark in marks):
        raise TemplateError(
            str(path), "Word 模板的 {{正文}} 不能放在表格、文本框或内容控件中，请单独成段写在正文里"
        )
    if not marks:
        raise TemplateError(
            str(path), "Word 模板中没有 {{正文}}：请在要插入简报正文的位置单独写一段 {{正文}}"
        )
    if len(marks) > 1:
        raise TemplateError(str(path), f"Word 模板中 {{{{正文}}}} 出现了 {len(marks)} 次，只能有一处")
    mark = marks[0]
    rest = PLACEHOLDER.sub("", "".join(t.text or "" for t in _own_texts(mark)))
    if rest.strip():
        extra = rest.strip()
        raise TemplateError(str(path), f"Word 模板的 {{{{正文}}}} 须单独成段，所在段落还有文字“{extra}”")
    return mark


def _insert_body(document: Any, mark: Any, outline: Outline, look: Look) -> None:
    """Write the blocks at the end of the body, then move them where ``mark`` is and drop it."""
    body = document.element.body
    existing = list(body)  # kept alive: lxml proxies keep their identity while referenced
    seen = {id(child) for child in existing}
    write_blocks(document, outline.blocks, look)
    for element in [child for child in body if id(child) not in seen]:
        mark.addprevious(element)
    properties = mark.pPr
    if properties is not None and properties.sectPr is not None:
        for child in list(mark):  # the paragraph ends a section: keep it, empty
            if child is not properties:
                mark.remove(child)
    else:
        mark.getparent().remove(mark)


def _text_width(document: Any, mark: Any) -> float:
    """The width in mm of the text where ``mark`` is: its section's page less the margins."""
    from docx.section import Section

    body = document.element.body
    properties = None
    for element in (mark, *mark.itersiblings()):  # a section's properties are in its last paragraph
        properties = element.find(f"{_W}pPr/{_W}sectPr")
        if properties is not None:
            break
    if properties is None:
        properties = body.sectPr
    width: float = TEXT_WIDTH_MM
    if properties is not None:
        section = Section(properties, document.part)
        page, left, right = section.page_width, section.left_margin, section.right_margin
        if page is not None and left is not None and right is not None:
            width = (page - left - right) / 36000  # EMU per mm
    return max(width, 40.0)


def _body_size(document: Any) -> float:
    """The size in points of the template's body text: its Normal style's, else its default's."""
    size = document.styles["Normal"].font.size
    if size is not None:
        return float(size.pt)
    default = document.styles.element.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr/{_W}sz")
    if default is not None and (value := default.get(f"{_W}val", "")).isdigit():
        return int(value) / 2  # half-points
    return 10.0  # what Word shows where nothing says a size


def _ensure_styles(document: Any, body_pt: float) -> None:
    """Add the styles the blocks use and the template lacks (Word keeps only the styles in use):
    标题 1/标题 2 in the GB/T 9704 form (黑体/楷体 at the body's size, black, not bold) and 网格型
    (Table Grid) as python-docx has it."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor
    from docx.styles.style import StyleFactory

    styles = document.styles.element
    default: Any = None
    # Names as styles.xml stores them, whatever the language of the Word that wrote the file.
    for name, font in (("heading 1", HEADING_FONT), ("heading 2", SUBHEADING_FONT), ("Table Grid", None)):
        if styles.get_by_name(name) is not None:
            continue
        default = default if default is not None else Document().styles.element
        adopted = _adopt(styles, default, default.get_by_name(name).styleId)
        style: Any = StyleFactory(styles.get_by_id(adopted))
        if font is None:
            continue
        _fonts(style.element, font)
        style.font.size = Pt(body_pt)
        style.font.bold = style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = style.paragraph_format.space_after = Pt(0)
        style.paragraph_format.first_line_indent = Pt(body_pt * 2)
        style.element.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")


def _adopt(styles: Any, default: Any, style_id: str) -> str:
    """Copy python-docx's style ``style_id`` (and the styles it is based on) into ``styles`` unless a
    style of the same name is there; its id in ``styles``."""
    from docx.oxml.ns import qn

    source = default.get_by_id(style_id)
    present = styles.get_by_name(source.name_val)
    if present is not None:
        return str(present.styleId)
    adopted = copy.deepcopy(source)
    for tag in ("w:link", "w:rsid"):
        for element in adopted.findall(qn(tag)):
            adopted.remove(element)
    new_id = style_id
    while styles.get_by_id(new_id) is not None:  # a Chinese Word's ids are 1, 2, a, a0, …
        new_id = f"Yuqing{new_id}"
    adopted.set(qn("w:styleId"), new_id)
    for tag in ("w:basedOn", "w:next"):
        reference = adopted.find(qn(tag))
        if reference is None:
            continue
        target = reference.get(qn("w:val"))
        if target == style_id:
            reference.set(qn("w:val"), new_id)
        elif default.get_by_id(target) is None:
            adopted.remove(reference)
        else:
            reference.set(qn("w:val"), _adopt(styles, default, target))
    styles.append(adopted)
    return new_id
