"""Chinese tokenisation shared by the archive and the classifiers.

:func:`tokenize` is jieba's search-mode cut (every dictionary sub-word of a long word is emitted as
well, so a query for 共和国 finds 中华人民共和国), normalised (NFKC, lowercase) and stripped of
whitespace and punctuation. Character bigrams, for recall where segmentation misses a word, come
from Elasticsearch's ``cjk`` analyzer (:mod:`archive.mappings`).

The segmenter is rjieba (jieba-rs: jieba's algorithm and dictionary in Rust). With HMM off it cuts
exactly as Python jieba does except for the order of sub-words in long runs of one repeated
character (哈哈哈哈…), measured over 29,200 shared posts.

The archive indexes these tokens and tokenises queries with the same function, so a change of
dictionary or options changes what old documents match: re-index after such a change.
"""

from __future__ import annotations

import functools
import unicodedata
from types import ModuleType


@functools.cache
def _segmenter() -> ModuleType:
    # rjieba builds its dictionary (jieba's own dict.txt, compiled into the extension) when it is
    # first imported: ~0.1 s and ~35 MB, against ~0.7 s and ~80 MB for pure-Python jieba, and it
    # segments ~6x faster. Imported on first use, not at module import, so that importing the
    # archive package stays light for processes that never tokenise.
    import rjieba

    return rjieba


def loaded() -> bool:
    """Whether this process has built the dictionary yet (it is built on first use)."""
    return _segmenter.cache_info().currsize > 0


class _Kept(dict[str, str]):
    """token -> the token stripped, or "" when it carries nothing to search for.

    Filtering jieba's output token by token in Python cost more than the segmentation itself; a
    ``map`` over this dict's lookups runs in C for the few thousand words that make up most texts.
    """

    LIMIT = 1 << 18  # distinct tokens remembered (numbers and names keep coming in a long-lived worker)

    def __missing__(self, token: str) -> str:
        stripped = token.strip()
        # A token made only of whitespace, punctuation or symbols carries nothing to search for.
        kept = stripped if any(unicodedata.category(char)[0] in "LN" for char in stripped) else ""
        if len(self) >= self.LIMIT:
            self.clear()
        self[token] = kept
        return kept


_kept = _Kept()


def words(text: str) -> list[str]:
    """jieba's plain (not search-mode) cut of ``text`` as it is, HMM off, without blank words.

    The classifiers' word features; see :func:`tokenize` for why HMM is off.
    """
    # filter() with str.strip runs in C: the same words at a third of a list comprehension's cost.
    return list(filter(str.strip, _segmenter().cut(text, False)))


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens of ``text``, lowercased, without whitespace or punctuation.

    Full-width letters and digits are folded to ASCII first (NFKC), so ＡＢＣ and abc match. HMM
    guessing of unknown words is off: it segments a word differently depending on its neighbours,
    and a query must segment exactly as the posts it should find did.
    """
    if not text:
        return []
    normalised = unicodedata.normalize("NFKC", text).lower()
    return list(filter(None, map(_kept.__getitem__, _segmenter().cut_for_search(normalised, False))))
