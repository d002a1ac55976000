"""Highlights: where a hit matched, as character spans of its original title and text.

Both archives compute them here from the same query tree, so they mark the same words. Spans
index the original strings (not the normalised ones), so a UI can escape the text and insert its
own markers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

Span = tuple[int, int]


@dataclass(frozen=True)
class Highlight:
    """Half-open ``(start, end)`` character spans of the matched words in ``title`` and ``text``."""

    title: list[Span] = field(default_factory=list)
    text: list[Span] = field(default_factory=list)


def _normalised_with_map(text: str) -> tuple[str, list[int]]:
    """``text`` NFKC-folded and lower-cased, with the original index of every normalised character."""
    from archive.ast import normalise

    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = normalise(char)
        chars.append(folded)
        origin.extend([index] * len(folded))
    return "".join(chars), origin


def spans(text: str, needles: Iterable[str]) -> list[Span]:
    """Merged, sorted spans of every occurrence of each (normalised) needle in ``text``."""
    if not text:
        return []
    normal, origin = _normalised_with_map(text)
    found: list[Span] = []
    for needle in set(needles):
        if not needle:
            continue
        start = normal.find(needle)
        while start >= 0:
            end = start + len(needle)
            found.append((origin[start], origin[end - 1] + 1))
            start = normal.find(needle, start + 1)
    merged: list[Span] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(title: str, text: str, needles: Iterable[str]) -> Highlight:
    """The spans of ``needles`` in a post's title and text."""
    words = list(needles)
    return Highlight(title=spans(title, words), text=spans(text, words))
