"""The resolved query AST as SQL over the embedded archive's ``posts`` and ``posts_fts`` tables.

Text conditions that FTS5 can express (tokens under AND/OR, and NOT beside a positive term) at the
top level of the query become one ``MATCH`` that drives the query through the full-text index, so
a rare word reads only its own posts. Anything else (text under an OR with a field, a lone NOT, a
phrase inside an OR or under a NOT) becomes a ``rowid IN (SELECT ... MATCH ?)`` subquery. The FTS5
table keeps no positions (``detail=column``), so a phrase is found by its tokens and then checked
against the stored title and text (:func:`_phrase_check`: in SQLite for a Chinese phrase, else
by the ``yq_phrase`` function the archive registers on its read connections).

What keeps such subqueries cheap (``NOT "…"`` clauses above all; seven of them took 7 s on 50,000
posts before):

- a phrase's check is written ``CASE WHEN <has the tokens> THEN <check> ELSE 0 END``. SQLite
  evaluates both sides of an ``AND`` that is a value (under ``NOT coalesce(...)``, inside an
  ``OR``), so ``<tokens> AND yq_phrase(...)`` parsed the JSON of every candidate post; the post
  is looked up by rowid inside the CASE, so a query needing no other column keeps its covering
  index;
- a Chinese phrase is checked by SQLite itself on posts stored ``plain``: no call into Python,
  whose GIL every read thread of the process shares. Elsewhere the reader remembers each
  (rowid, phrase) answer for the rest of the read (a search's count and page test the same rows);
- when words drive the query, every subquery is restricted to them
  (``MATCH '(<words>) AND (<tokens>)'``): each row already has those words, so the answer is the
  same, and the subquery costs what the words' matches cost instead of a walk over every post
  holding a common word;
- NOT conditions are tested last, after the fields and ranges have narrowed the candidates.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from archive.ast import And, Constant, Match, Node, Not, Or, Range, Words, positive_words

# FILTER_FIELDS name (and the two range fields) -> column of ``posts``.
COLUMNS: dict[str, str] = {
    "source": "source",
    "channel": "channel",
    "region": "region",
    "sentiment": "sentiment",
    "topic": "topic",
    "appeal_type": "appeal_type",
    "reply_status": "reply_status",
    "event": "event_id",
    "risk": "risk",
    "time": "published_ms",
}
_IN_FTS = "p.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?)"
# Code points NFKC turns into (or into a string holding) a CJK ideograph, within a few blocks:
# radicals, Kangxi radicals, Hangzhou numerals, kanbun, enclosed and compatibility CJK,
# compatibility ideographs and the enclosed ideographic supplement. The CJK punctuation of
# U+3000-3037 (、。「」) is left out, being in nearly every post. A test checks every code point.
IDEOGRAPH_SOURCE_RANGES = [
    ("\u2e80", "\u2fdf"),
    ("\u3038", "\u303a"),
    ("\u3190", "\u319f"),
    ("\u3200", "\u33ff"),
    ("\uf900", "\ufaff"),
    ("\U0001f200", "\U0001f2ff"),
    ("\U0002f800", "\U0002fa1f"),
]


@functools.lru_cache(maxsize=256)
def ideographic(phrase: str) -> bool:
    """Whether ``phrase`` is CJK ideographs alone (unified and extension A).

    Such characters have no decomposition, compose with no neighbour and have no case: the phrase
    occurs in a text's normalised form exactly where it occurs in the text, unless the text holds
    a character that NFKC turns into an ideograph (:data:`IDEOGRAPH_SOURCE_RANGES`).
    """
    return all("\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" for char in phrase)


def _phrase_check(row: str, phrase: str, params: list[object]) -> str:
    """Whether the post ``row`` (a posts alias) holds ``phrase``: in SQLite alone where it can.

    ``yq_phrase`` (Python) normalises the title and text. For an ideographic phrase and a
    ``plain`` post (see :func:`archive.embedded_schema.plain`) the normalised title and text hold
    the phrase exactly where the stored ones do, so SQLite decides: a byte search of the stored
    post rules most candidates out, and the title and text are read with ``json_extract`` for
    the rest. Python, which takes the GIL every read thread shares, sees only older rows (no
    ``plain`` yet), posts with compatibility characters, and phrases that are not ideographs alone.
    """
    check = f"yq_phrase({row}.rowid, {row}.doc, ?)"
    if not ideographic(phrase):
        params.append(phrase)
        return check
    params.extend([phrase, phrase.encode(), phrase, phrase])
    doc = f"CAST({row}.doc AS TEXT)"
    return (
        f"(CASE WHEN {row}.plain IS NOT 1 THEN {check} "
        f"WHEN instr({row}.doc, ?) = 0 THEN 0 "
        f"WHEN instr(json_extract({doc}, '$.text'), ?) > 0 THEN 1 "
        f"ELSE coalesce(instr(json_extract({doc}, '$.title'), ?) > 0, 0) END)"
    )


@dataclass
class SqlPlan:
    """The FROM/WHERE of a query, shared by search, count and aggregations so they always agree."""

    nothing: bool = False
    match: str | None = None  # the driving FTS5 expression, if any
    within: str | None = None  # the plain words of its positive part: every matching row has them
    score_tokens: tuple[str, ...] = ()  # the matched tokens that relevance counts
    conditions: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    @property
    def sql(self) -> str:
        """``FROM ... WHERE ...`` with ``p`` as the posts alias."""
        return self.sql_with()

    def sql_with(self, *extra: str, leading: Sequence[str] = ()) -> str:
        """:attr:`sql` with ``extra`` conditions (parameters bound after :attr:`all_params`).

        ``leading`` conditions, without parameters, come before the query's own: where two
        ranges on one column could drive an index, SQLite takes the first it finds.
        """
        if self.match is not None:
            source = "posts_fts JOIN posts p ON p.rowid = posts_fts.rowid"
            conditions = ["posts_fts MATCH ?", *leading, *self.conditions, *extra]
        else:
            source, conditions = "posts p", [*leading, *self.conditions, *extra]
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"FROM {source}{where}"

    @property
    def all_params(self) -> list[object]:
        """The bound parameters of :attr:`sql`, in order."""
        return [self.match, *self.params] if self.match is not None else list(self.params)


def _quote(token: str) -> str:
    # Quoted, a token is a string to FTS5, never an operator (AND, NOT, NEAR) or a column filter.
    return '"' + token.replace('"', '""') + '"'


def _tokens(words: Words) -> str:
    return " AND ".join(_quote(token) for token in words.tokens)


def fts_expression(node: Node) -> str | None:
    """``node`` as an FTS5 query, or None where FTS5 cannot say it (fields, phrases, a lone NOT)."""
    if isinstance(node, Words):
        return _tokens(node) if node.phrase is None else None
    if isinstance(node, Or):
        parts = [fts_expression(item) for item in node.items]
        return None if any(part is None for part in parts) else " OR ".join(f"({part})" for part in parts)
    if isinstance(node, And):
        positive = [item for item in node.items if not isinstance(item, Not)]
        negative = [item.item for item in node.items if isinstance(item, Not)]
        pos = [fts_expression(item) for item in positive]
        neg = [fts_expression(item) for item in negative]
        if not pos or any(part is None for part in [*pos, *neg]):
            return None
        expression = "(" + " AND ".join(f"({part})" for part in pos) + ")"
        return expression + "".join(f" NOT ({part})" for part in neg)
    return None


def _restricted(expression: str, within: str | None) -> str:
    # Only for rows known to match ``within``: the subquery then walks its matches, not every post.
    return expression if within is None else f"{within} AND ({expression})"


def _sql(node: Node, params: list[object], within: str | None = None) -> str:
    if isinstance(node, Words):
        params.append(_restricted(_tokens(node), within))
        if node.phrase is None:
            return _IN_FTS
        # CASE, not AND: a value-context AND evaluates both sides, and the phrase check reads
        # the stored post. The post is looked up only for that check, so a query that needs no
        # other column of the row can still run on a covering index.
        check = _phrase_check("d", node.phrase, params)
        return f"(CASE WHEN {_IN_FTS} THEN (SELECT {check} FROM posts d WHERE d.rowid = p.rowid) ELSE 0 END)"
    if isinstance(node, Match):
        params.append(node.value)
        return f"p.{COLUMNS[node.field]} = ?"
    if isinstance(node, Range):
        column = f"p.{COLUMNS[node.field]}"
        parts = []
        if node.low is not None:
            parts.append(f"{column} >= ?")
            params.append(node.low)
        if node.high is not None:
            parts.append(f"{column} < ?")
            params.append(node.high)
        return "(" + " AND ".join(parts) + ")" if parts else "1"
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(_sql(item, params, within) for item in node.items) + ")"
    if isinstance(node, Not):
        # A NULL column makes "region = ?" NULL, and NOT NULL is NULL (no row); Elasticsearch's
        # must_not keeps posts without the field, so NULL counts as false here.
        return f"NOT coalesce({_sql(node.item, params, within)}, 0)"
    if isinstance(node, Constant):
        return "1" if node.value else "0"
    raise TypeError(f"unresolved node {node!r}")  # the parser's Term/Phrase: resolve() first


def compile_sql(node: Node) -> SqlPlan:
    """The :class:`SqlPlan` of a resolved condition."""
    if isinstance(node, Constant):
        return SqlPlan(nothing=not node.value)
    tokens = dict.fromkeys(token for words in positive_words(node) for token in words.tokens)
    plan = SqlPlan(score_tokens=tuple(tokens)[:_MAX_SCORED])
    conjuncts = node.items if isinstance(node, And) else (node,)
    positive: list[str] = []
    words: list[str] = []  # the positive parts that are plain words, not ORs
    negative: list[str] = []
    rest: list[Node] = []
    for item in conjuncts:
        if isinstance(item, Words) and item.phrase is not None:
            positive.append(_tokens(item))  # candidates by token, checked by yq_phrase below
            words.append(_tokens(item))
            plan.conditions.append(_phrase_check("p", item.phrase, plan.params))
        elif (expression := fts_expression(item)) is not None:
            positive.append(expression)
            if isinstance(item, Words):
                words.append(expression)
        elif isinstance(item, Not) and (expression := fts_expression(item.item)) is not None:
            negative.append(expression)
        else:
            rest.append(item)
    if positive:
        match = "(" + " AND ".join(f"({part})" for part in positive) + ")"
        plan.match = match + "".join(f" NOT ({part})" for part in negative)
    if words:
        # Subqueries are restricted by the plain words only: FTS5 evaluates a restriction again
        # in every subquery, cheap for words (it steps the rarest word's rows), not for a wide OR.
        plan.within = "(" + " AND ".join(f"({part})" for part in words) + ")"
    if not positive:
        for expression in negative:  # a NOT with no positive term beside it
            plan.conditions.append(f"NOT coalesce({_IN_FTS}, 0)")
            plan.params.append(expression)
    # NOTs last: SQLite tests the conditions in this order, and a field or range is cheaper.
    rest.sort(key=lambda item: isinstance(item, Not))
    for item in rest:
        plan.conditions.append(_sql(item, plan.params, plan.within))
    return plan


_MAX_SCORED = 8  # relevance costs one set lookup per token and column: cap it
SortKey = tuple[str, str]  # (SQL expression, "ASC" | "DESC")
_NEWEST: list[SortKey] = [("p.published_ms", "DESC"), ("p.id", "ASC")]


def sort_keys(sort: str, plan: SqlPlan) -> list[SortKey]:
    """The ORDER BY keys of a sort; ties always fall back to newest first, then id ascending."""
    if sort == "risk":
        return [("p.risk", "DESC"), *_NEWEST]
    if sort == "relevance" and plan.score_tokens:
        return [(relevance(plan.score_tokens), "DESC"), *_NEWEST]
    return list(_NEWEST)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def relevance(tokens: tuple[str, ...]) -> str:
    """A score per post: 2 for each token in the title, 1 for each in the text.

    FTS5's bm25() needs token counts that ``detail=column`` does not keep (it returns 0), so the
    score counts matched columns instead: a title match weighs double, as the ^2 boost on
    ``title_tokens`` does in Elasticsearch. Tokens are inlined as quoted literals because the
    expression appears in SELECT, WHERE and ORDER BY alike. (Restricting each lookup to the
    query's words, as :func:`_sql` does, made the analyst mix's relevance searches 10-20 % slower
    at a million posts: a token of one column is a short list to walk.)
    """
    terms = []
    for token in tokens:
        for column, weight in (("title", 2), ("body", 1)):
            expression = _literal(f"{column} : {_quote(token)}")
            terms.append(
                f"(p.rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH {expression})) * {weight}"
            )
    return "(" + " + ".join(terms) + ")"


def order_by(keys: list[SortKey]) -> str:
    """``ORDER BY`` text of ``keys``."""
    return ", ".join(f"{expression} {direction}" for expression, direction in keys)


def after(keys: list[SortKey], values: Sequence[object], params: list[object]) -> str:
    """The keyset condition "sorts after ``values``" (mixed directions, so spelled out)."""
    if len(values) != len(keys):
        from archive.errors import QueryError

        raise QueryError("翻页游标与当前排序方式不符：请从第一页重新查询")
    alternatives = []
    for index, (expression, direction) in enumerate(keys):
        equal = [f"{keys[i][0]} = ?" for i in range(index)]
        params.extend(values[:index])
        alternatives.append(" AND ".join([*equal, f"{expression} {'<' if direction == 'DESC' else '>'} ?"]))
        params.append(values[index])
    return "(" + " OR ".join(f"({part})" for part in alternatives) + ")"
