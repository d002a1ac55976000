"""What both archives do before and after running a search: one condition tree, cursors, highlights.

:func:`condition` turns a :class:`~archive.base.SearchQuery` (query text, filters, time range,
minimum risk) into one resolved AST, so the SQL and Elasticsearch compilers start from the same
tree. Cursors are opaque strings holding the sort values of a page's last hit.
"""

from __future__ import annotations

import base64
import binascii
import json

from archive.ast import Match, Node, Range, conjoin, positive_words, resolve
from archive.base import SearchQuery, check_query
from archive.documents import epoch_ms
from archive.errors import QueryError
from archive.highlight import Highlight, highlight
from archive.querylang import parse
from archive.tokens import tokenize
from core.messages import EnrichedPost

CursorValue = int | float | str


def condition(query: SearchQuery) -> Node:
    """The resolved condition of ``query``; raises :class:`QueryError` for a query no backend runs."""
    check_query(query)
    parsed = parse(query.text)
    filters = [Match(name, value) for name, value in query.filters.items()]
    since = epoch_ms(query.since) if query.since is not None else None
    until = epoch_ms(query.until) if query.until is not None else None
    time = Range("time", since, until) if since is not None or until is not None else None
    risk = Range("risk", query.min_risk, None) if query.min_risk is not None else None
    return resolve(conjoin(parsed, *filters, time, risk), tokenize)


def needles(node: Node) -> list[str]:
    """The normalised strings a highlight marks: matched tokens and phrases."""
    found: list[str] = []
    for words in positive_words(node):
        found.extend(words.tokens)
        if words.phrase:
            found.append(words.phrase)
    return found


def highlights(posts: list[EnrichedPost], node: Node) -> list[Highlight]:
    """One :class:`Highlight` per post for the text conditions of ``node``."""
    words = needles(node)
    return [highlight(post.get("title") or "", post.get("text") or "", words) for post in posts]


def encode_cursor(sort: str, values: list[CursorValue]) -> str:
    """An opaque cursor for the hit after the one whose sort values are ``values``."""
    raw = json.dumps({"s": sort, "v": values}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, sort: str) -> list[CursorValue]:
    """The sort values in ``cursor``; a cursor that is damaged or from another sort is a QueryError."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        values = data["v"]
        cursor_sort = data["s"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise QueryError("翻页游标无效：请从第一页重新查询") from None
    if cursor_sort != sort or not isinstance(values, list):
        raise QueryError("翻页游标与当前排序方式不符：请从第一页重新查询")
    return values
