"""Apply a configured :class:`~crawlers.sources.FieldSelector` to a page or a row of it.

Extraction returns the text as the page renders it: one line per block element (so paragraphs
survive), characters untouched; normalising and deciding what the text means is the pipelines' job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from lxml import html as lxml_html
from parsel import Selector, SelectorList

from crawlers.sources import FieldSelector

# Elements that start a new line when a browser renders them; their text is kept on separate lines.
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset", "figcaption", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# fmt: on
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template"})


@dataclass(frozen=True)
class Found:
    """A field's value and where it came from (a selector, a JSON path, the feed, the extractor).

    When nothing was found ``value`` is None and ``where`` names everything that was tried. Spiders copy
    ``where`` into their items' ``trace``, which ``yuqing sources try`` prints and nothing decides on.
    """

    value: str | None
    where: str


def select(node: Selector | SelectorList[Selector], selector: FieldSelector) -> SelectorList[Selector]:
    """The nodes ``selector`` matches under ``node`` (a response's selector, a row, ...)."""
    if selector.kind == "css":
        return node.css(selector.query)
    return node.xpath(selector.query)


def extract_text(node: Selector | SelectorList[Selector], selector: FieldSelector) -> str | None:
    """The text of every match joined by line breaks, narrowed by the selector's regex; None if empty."""
    parts = [_node_text(match) for match in select(node, selector)]
    text = "\n".join(part for part in parts if part.strip())
    if selector.pattern is not None:
        found = _compiled(selector.pattern).search(text)
        if found is None:
            return None
        text = found.group(1) if found.re.groups else found.group(0)
    return text if text.strip() else None


def extract_first(node: Selector | SelectorList[Selector], selector: FieldSelector) -> str | None:
    """The text of the first match only (a link's href, say), narrowed by the selector's regex."""
    for match in select(node, selector):
        text = _node_text(match)
        if selector.pattern is not None:
            found = _compiled(selector.pattern).search(text)
            if found is None:
                continue
            text = found.group(1) if found.re.groups else found.group(0)
        if text.strip():
            return text.strip()
    return None


def extract_each(node: Selector | SelectorList[Selector], selector: FieldSelector) -> list[str]:
    """The text of each match (each link of a list page), narrowed by the selector's regex; no blanks."""
    out: list[str] = []
    for match in select(node, selector):
        text = _node_text(match)
        if selector.pattern is not None:
            found = _compiled(selector.pattern).search(text)
            if found is None:
                continue
            text = found.group(1) if found.re.groups else found.group(0)
        if text.strip():
            out.append(text.strip())
    return out


def html_fragment_text(value: str) -> str:
    """The text of an HTML fragment (a JSON API's ``content``), one line per block element as rendered."""
    if not value.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return value
    parts: list[str] = []
    _walk(root, parts, tail=False)
    return "\n".join(line for line in "".join(parts).splitlines() if line.strip())


def describe(selector: FieldSelector) -> str:
    """A selector as configured, for people: ``css h1.title::text``, ``xpath //h1 re (\\d+)``."""
    text = f"{selector.kind} {selector.query}"
    return text if selector.pattern is None else f"{text} re {selector.pattern}"


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _node_text(match: Selector) -> str:
    root = match.root
    if isinstance(root, str):  # a text node or an attribute value
        return root
    if isinstance(root, etree._Element):
        parts: list[str] = []
        _walk(root, parts, tail=False)  # the text after the matched element belongs to its parent
        # One line per rendered line: the source's indentation newlines and empty blocks are not content.
        return "\n".join(line for line in "".join(parts).splitlines() if line.strip())
    return str(match.get())


def _walk(element: etree._Element, parts: list[str], *, tail: bool) -> None:
    if isinstance(element.tag, str) and element.tag.lower() not in _SKIPPED_TAGS:
        block = element.tag.lower() in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if element.text:
            parts.append(element.text)
        for child in element:
            _walk(child, parts, tail=True)
        if block:
            parts.append("\n")
    # A comment or processing instruction contributes nothing, but the text after it is content.
    if tail and element.tail:
        parts.append(element.tail)
