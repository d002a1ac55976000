"""The query AST, shared by the parser, the SQL compiler and the Elasticsearch compiler.

The parser produces :class:`Term`, :class:`Phrase`, :class:`Match`, :class:`Range`, :class:`And`,
:class:`Or` and :class:`Not`. :func:`resolve` turns Terms and Phrases into :class:`Words` (the jieba
tokens every backend matches) and folds conditions that can never or always match into
:data:`NOTHING`/:data:`EVERYTHING`, so both compilers see exactly the same tree.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Term:
    """Bare words: every jieba token of ``text`` must occur in the title or the text."""

    text: str
    position: int = 0


@dataclass(frozen=True)
class Phrase:
    """Quoted text: it must occur as written (after NFKC and lower-casing) in the title or the text."""

    text: str
    position: int = 0


@dataclass(frozen=True)
class Match:
    """A keyword field equals ``value`` exactly; ``field`` is an :data:`archive.base.FILTER_FIELDS` name."""

    field: str
    value: str
    position: int = 0


@dataclass(frozen=True)
class Range:
    """``low <= field < high`` (either side open as None); ``field`` is ``risk`` or ``time`` (epoch ms)."""

    field: str
    low: int | None
    high: int | None
    position: int = 0


@dataclass(frozen=True)
class And:
    """Every item matches."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one item matches."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The item does not match."""

    item: Node


@dataclass(frozen=True)
class Words:
    """Resolved text: every token must occur; with ``phrase``, that normalised text must too."""

    tokens: tuple[str, ...]
    phrase: str | None = None


@dataclass(frozen=True)
class Constant:
    """A condition known without looking at any post: :data:`EVERYTHING` or :data:`NOTHING`."""

    value: bool


EVERYTHING = Constant(True)
NOTHING = Constant(False)

Node = Union[Term, Phrase, Match, Range, And, Or, Not, Words, Constant]  # noqa: UP007 - used at runtime


def normalise(text: str) -> str:
    """What phrases and highlights compare: NFKC (full-width to ASCII), lower-cased."""
    return unicodedata.normalize("NFKC", text).lower()


def resolve(node: Node, tokenize: Callable[[str], list[str]]) -> Node:
    """``node`` with text turned into :class:`Words` and constant conditions folded away."""
    if isinstance(node, Term | Phrase):
        tokens = tuple(dict.fromkeys(tokenize(node.text)))
        if not tokens:
            return NOTHING  # nothing searchable (only punctuation): matches no post
        if isinstance(node, Phrase):
            phrase = normalise(node.text).strip()
            if phrase in tokens:
                # The phrase is one dictionary word: a post with that token holds it as written
                # (tokens come from the same normalised text), so no check is needed.
                return Words((phrase,))
            return Words(tokens, phrase)
        return Words(tokens)
    if isinstance(node, Not):
        inner = resolve(node.item, tokenize)
        if isinstance(inner, Constant):
            return Constant(not inner.value)
        return inner.item if isinstance(inner, Not) else Not(inner)
    if isinstance(node, And | Or):
        absorbing = isinstance(node, Or)  # TRUE absorbs an OR, FALSE an AND
        items: list[Node] = []
        for child in node.items:
            resolved = resolve(child, tokenize)
            if isinstance(resolved, Constant):
                if resolved.value == absorbing:
                    return resolved
                continue
            # Flatten nested ANDs (or ORs) so a compiler sees one level per operator.
            items.extend(resolved.items if isinstance(resolved, type(node)) else [resolved])
        if not items:
            return Constant(not absorbing)
        return items[0] if len(items) == 1 else type(node)(tuple(items))
    if isinstance(node, Range) and node.low is not None and node.high is not None and node.low >= node.high:
        return NOTHING
    return node


def positive_words(node: Node) -> Iterator[Words]:
    """The text conditions a hit matched (those not under a NOT): what a highlight marks."""
    if isinstance(node, Words):
        yield node
    elif isinstance(node, And | Or):
        for child in node.items:
            yield from positive_words(child)


def conjoin(*nodes: Node | None) -> Node:
    """The AND of the given conditions (None skipped); EVERYTHING when none is left."""
    items = tuple(node for node in nodes if node is not None)
    if not items:
        return EVERYTHING
    return items[0] if len(items) == 1 else And(items)
