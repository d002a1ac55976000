"""The analysts' query language: a pure parser from a query string to an AST.

Grammar (precedence NOT > AND > OR; adjacent conditions are joined by AND)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | "(" or ")" | field | "\"phrase\"" | term
    field   := name ":" (value | "\"value\"" | range)
    range   := ">=" v | ">" v | "<=" v | "<" v | v ".." v | v ".." | ".." v

Full-width brackets, quotes and colons （）“”： are read as their ASCII forms, because analysts type
them with a Chinese input method. Every error is a :class:`~archive.errors.QueryError` with a
Chinese message and the 0-based character position of the fault; nothing here touches a backend.
The field table is :data:`archive.fields.QUERY_FIELDS`.

A query is at most :data:`MAX_LENGTH` characters and nests parentheses and NOTs at most
:data:`MAX_DEPTH` deep: every later stage (resolving, both compilers, SQLite's and
Elasticsearch's own parsers) walks the tree recursively, and a search box must not be able to
raise ``RecursionError`` or hand a backend a query of unbounded size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.ast import And, Match, Node, Not, Or, Phrase, Range, Term
from archive.errors import QueryError
from archive.fields import QUERY_FIELDS, field_help, parse_range

_FOLD = str.maketrans({"（": "(", "）": ")", "“": '"', "”": '"', "：": ":", "＂": '"'})
_OPERATORS = {"AND", "OR", "NOT"}
_FIELD_NAME = re.compile(r"[A-Za-z_]+|[\u4e00-\u9fff]{2,4}")
MAX_LENGTH = 1_000  # characters of a query
MAX_DEPTH = 20  # parentheses and NOTs inside one another


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" "word" "phrase" "field" "op" "-"
    text: str
    position: int
    value: str = ""  # a field's raw value
    quoted: bool = False


def _at(position: int) -> str:
    return f"第 {position + 1} 个字符处"


def _read_quoted(query: str, start: int) -> tuple[str, int]:
    """The text between the quote at ``start`` and its closing quote, and the index after it."""
    end = query.find('"', start + 1)
    if end < 0:
        raise QueryError(f"引号不成对：{_at(start)}的引号没有闭合", position=start)
    return query[start + 1 : end], end + 1


def _lex(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, char, i))
            i += 1
        elif char == '"':
            text, i_next = _read_quoted(query, i)
            tokens.append(_Token("phrase", text, i))
            i = i_next
        elif char == "-" and i + 1 < len(query) and not query[i + 1].isspace():
            # At the start of a word a minus negates it (an inner one, as in covid-19, is text).
            tokens.append(_Token("-", "-", i))
            i += 1
        else:
            start = i
            while i < len(query) and not query[i].isspace() and query[i] not in '()"':
                i += 1
            word = query[start:i]
            name, colon, value = word.partition(":")
            if colon and _FIELD_NAME.fullmatch(name) and not value.startswith("//"):  # not a URL
                quoted = False
                if not value and i < len(query) and query[i] == '"':
                    value, i = _read_quoted(query, i)
                    quoted = True
                if name.lower() in QUERY_FIELDS or name in QUERY_FIELDS or name.isascii():
                    tokens.append(_Token("field", name, start, value=value, quoted=quoted))
                    continue
            kind = "op" if word in _OPERATORS else "word"
            tokens.append(_Token(kind, word, start))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token], length: int, max_depth: int) -> None:
        self.tokens = tokens
        self.index = 0
        self.length = length
        self.max_depth = max_depth
        self.depth = 0  # parentheses and NOTs open around the current token

    def enter(self, token: _Token) -> None:
        """Go one level deeper at ``token`` (a "(" or a NOT), refusing past ``max_depth``."""
        self.depth += 1
        if self.depth > self.max_depth:
            raise QueryError(
                f"查询嵌套太深：{_at(token.position)}的“{token.text}”是第 {self.depth} 层括号或 NOT，"
                f"最多 {self.max_depth} 层；请去掉多余的括号，或拆成几次查询",
                position=token.position,
            )

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.parse_or()
        token = self.peek()
        if token is not None:  # only a stray ")" stops parse_or early
            raise QueryError(f"括号不成对：{_at(token.position)}多了一个“)”", position=token.position)
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == "op" and token.text == "OR":
            self.take()
            items.append(self.parse_and(after=token))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self, after: _Token | None = None) -> Node:
        items = [self.parse_unary(after)]
        while (token := self.peek()) is not None and not (
            token.kind == ")" or (token.kind == "op" and token.text == "OR")
        ):
            if token.kind == "op" and token.text == "AND":
                self.take()
                items.append(self.parse_unary(token))
            else:
                items.append(self.parse_unary(None))
        return items[0] if len(items) == 1 else And(tuple(items))

    def _missing(self, after: _Token | None) -> QueryError:
        if after is None:
            position = self.length
            return QueryError(f"查询不完整：{_at(position)}缺少查询条件", position=position)
        return QueryError(f"{_at(after.position)}的“{after.text}”后面缺少查询条件", position=after.position)

    def parse_unary(self, after: _Token | None) -> Node:
        token = self.peek()
        if token is None or token.kind == ")" or (token.kind == "op" and token.text in ("AND", "OR")):
            if token is not None and after is None and token.kind == "op":
                raise QueryError(
                    f"{_at(token.position)}的“{token.text}”前面缺少查询条件", position=token.position
                )
            if token is not None and token.kind == ")" and after is None:
                raise QueryError(f"{_at(token.position)}的括号里没有查询条件", position=token.position)
            raise self._missing(after)
        self.take()
        if token.kind in ("op", "-"):  # NOT or a leading minus
            self.enter(token)
            negated = Not(self.parse_unary(token))
            self.depth -= 1
            return negated
        if token.kind == "(":
            self.enter(token)
            inner = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise QueryError(
                    f"括号不成对：{_at(token.position)}的“(”没有对应的“)”", position=token.position
                )
            self.take()
            self.depth -= 1
            return inner
        if token.kind == "phrase":
            return Phrase(token.text, token.position)
        if token.kind == "field":
            return _field(token)
        return Term(token.text, token.position)


def _field(token: _Token) -> Node:
    spec = QUERY_FIELDS.get(token.text.lower()) or QUERY_FIELDS.get(token.text)
    if spec is None:
        raise QueryError(
            f"未知字段“{token.text}”（{_at(token.position)}）；可用字段：{field_help()}",
            position=token.position,
        )
    value_at = token.position + len(token.text) + 1
    value = token.value.strip()
    if not value:
        raise QueryError(f"字段“{token.text}”缺少取值（{_at(value_at)}）", position=value_at)
    if spec.ranged:
        low, high = parse_range(spec.name, value, value_at)
        return Range(spec.name, low, high, token.position)
    if (not token.quoted and value[0] in "<>") or (".." in value and not token.quoted):
        raise QueryError(
            f"字段“{token.text}”不能写范围，只有 risk（风险）和 time（时间）可以（{_at(value_at)}）",
            position=value_at,
        )
    return Match(spec.name, spec.values.get(value, value), token.position)


def parse(query: str, *, max_length: int | None = MAX_LENGTH, max_depth: int = MAX_DEPTH) -> Node | None:
    """The AST of ``query``; None for a blank query (no condition). Raises :class:`QueryError`.

    A query longer than ``max_length`` characters (None: no limit) or nesting parentheses and NOTs
    deeper than ``max_depth`` is refused with the limit and where it is passed.
    """
    if max_length is not None and len(query) > max_length:
        raise QueryError(
            f"查询太长：共 {len(query):,} 个字符，最多 {max_length:,} 个"
            f"（超出部分从第 {max_length + 1:,} 个字符起）；请删减条件，或拆成几次查询",
            position=max_length,
        )
    folded = query.translate(_FOLD)
    tokens = _lex(folded)
    if not tokens:
        return None
    return _Parser(tokens, len(folded), max_depth).parse()
