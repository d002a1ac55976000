"""The resolved query AST as Elasticsearch query DSL, with the same meaning as :mod:`archive.sqlcompile`.

Tokens are matched as ``term`` queries on the pre-tokenised ``title_tokens``/``text_tokens`` (a
title match weighs double). A phrase is found by its tokens and checked with ``match_phrase`` on
the ``cjk``-bigram ``title``/``text`` fields: consecutive bigrams are the phrase's characters in a
row, which is what the embedded archive's substring check tests (see docs/archive-gaps.md for where
the two can differ). Fields are ``term`` filters, ranges are ``range`` filters, NOT is
``must_not`` (which, like the embedded archive, keeps posts that lack the field).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from archive.ast import And, Constant, Match, Node, Not, Or, Range, Words
from archive.base import FILTER_FIELDS
from core.china_time import CHINA_TZ

_NEWEST: list[Any] = [{"published_at": "desc"}, {"id": "asc"}]


def _token(token: str) -> dict[str, Any]:
    return {
        "bool": {
            "should": [
                {"term": {"title_tokens": {"value": token, "boost": 2.0}}},
                {"term": {"text_tokens": {"value": token}}},
            ],
            "minimum_should_match": 1,
        }
    }


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, CHINA_TZ).isoformat(timespec="milliseconds")


def _range(node: Range) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    convert = _iso if node.field == "time" else int
    if node.low is not None:
        bounds["gte"] = convert(node.low)
    if node.high is not None:
        bounds["lt"] = convert(node.high)
    return {"range": {"published_at" if node.field == "time" else "risk.score": bounds}}


def compile_es(node: Node) -> dict[str, Any]:
    """The query DSL of a resolved condition."""
    if isinstance(node, Words):
        must: list[Any] = [_token(token) for token in node.tokens]
        if node.phrase is None:
            return must[0] if len(must) == 1 else {"bool": {"must": must}}
        phrase = {
            "bool": {
                "should": [{"match_phrase": {name: node.phrase}} for name in ("title", "text")],
                "minimum_should_match": 1,
            }
        }
        return {"bool": {"must": must, "filter": [phrase]}}
    if isinstance(node, Match):
        return {"term": {FILTER_FIELDS[node.field]: node.value}}
    if isinstance(node, Range):
        return _range(node)
    if isinstance(node, And):
        clauses: dict[str, list[Any]] = {"must": [], "filter": [], "must_not": []}
        for item in node.items:
            if isinstance(item, Not):
                clauses["must_not"].append(compile_es(item.item))
            elif isinstance(item, Match | Range):
                clauses["filter"].append(compile_es(item))
            else:
                clauses["must"].append(compile_es(item))
        return {"bool": {name: value for name, value in clauses.items() if value}}
    if isinstance(node, Or):
        return {"bool": {"should": [compile_es(item) for item in node.items], "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [compile_es(node.item)]}}
    if isinstance(node, Constant):
        return {"match_all": {}} if node.value else {"match_none": {}}
    raise TypeError(f"unresolved node {node!r}")  # the parser's Term/Phrase: resolve() first


def build_sort(sort: str) -> list[Any]:
    """The sort of a search: the same orders and tie-breaks as the embedded archive."""
    if sort == "risk":
        return [{"risk.score": "desc"}, *_NEWEST]
    if sort == "relevance":
        return [{"_score": "desc"}, *_NEWEST]
    return list(_NEWEST)
