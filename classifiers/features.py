"""Text features shared by the trained models: cleaning, jieba words, and the 64-bit hashes of
character and word n-grams computed with numpy for a whole batch (scikit-learn's analyzers build
every n-gram as a Python string, ~250 µs a post), with the bucket table that looks hashes up in a
vocabulary. :mod:`classifiers.linear` builds its TF-IDF blocks on them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

# Weibo markup that says nothing about sentiment or topic: {%location%} and {%video%} tags, links,
# the "//@name:" of each repost layer, @mentions and zero-width spaces; and runs of whitespace, which
# scikit-learn's character analyzer folds into one space too.
_MARKUP = re.compile(r"\{%.*?%\}|https?://\S+|O网页链接|//@[^:：\s]*[:：]|@[\w\-]+|[\u200b\ufeff]|\s\s+")


# The enrichment hands the same "title text" string to every model of a batch: cleaning (NFKC above
# all, ~12 µs per post) is done once for all of them. A batch is at most a few thousand posts.
@functools.lru_cache(maxsize=4096)
def clean_text(text: str) -> str:
    """NFKC-folded, lowercased text without Weibo markup or runs of whitespace."""
    return _MARKUP.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def words(text: str) -> list[str]:
    """jieba's words of an already cleaned text (HMM off: the same word always cuts the same way)."""
    from archive.tokens import words as cut

    return cut(text)


def char_ngram_hashes(
    cleaned: Sequence[str], ngram_range: tuple[int, int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
    """(text number, 64-bit hash) of every character n-gram of already cleaned texts."""
    lengths = np.fromiter((len(t) for t in cleaned), dtype=np.int64, count=len(cleaned))
    codes = np.frombuffer("".join(cleaned).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    return _sequence_ngrams(codes, np.repeat(np.arange(len(cleaned)), lengths), ngram_range)


def word_ngram_hashes(
    tokens: Sequence[Sequence[str]], ngram_range: tuple[int, int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
    """(text number, 64-bit hash) of every word n-gram of texts already cut into words."""
    per_text = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    flat = [w for text in tokens for w in text]
    word_hash = _word_hashes("".join(flat), np.fromiter(map(len, flat), dtype=np.int64, count=len(flat)))
    return _sequence_ngrams(word_hash, np.repeat(np.arange(len(tokens)), per_text), ngram_range)


def _sequence_ngrams(
    units: npt.NDArray[np.uint64], doc_of: npt.NDArray[np.int64], ngram_range: tuple[int, int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
    """(text number, hash) of every n-gram of ``units`` (code points or word hashes) within a text.

    ``units`` are the texts' units end to end and ``doc_of`` the text each belongs to.
    """
    rows: list[npt.NDArray[np.int64]] = []
    hashes: list[npt.NDArray[np.uint64]] = []
    low, high = ngram_range
    for n in range(low, high + 1):
        m = len(units) - n + 1
        if m <= 0:
            continue
        h = np.full(m, n, dtype=np.uint64)  # n seeds the hash: 1-grams and 2-grams never share it
        for k in range(n):  # uint64 arithmetic wraps silently: that is the hash
            h = h * np.uint64(1_000_003) + units[k : k + m]
        same_text = doc_of[n - 1 : n - 1 + m] == doc_of[:m]  # no n-gram spans two texts
        rows.append(doc_of[:m][same_text])
        hashes.append(h[same_text])
    return _joined(rows, np.int64), _joined(hashes, np.uint64)


class BucketTable:
    """Sorted 64-bit keys grouped by the top bits of their Fibonacci hash, for vectorised lookup."""

    def __init__(
        self,
        keys: npt.NDArray[np.uint64],
        columns: npt.NDArray[np.int64],
        starts: npt.NDArray[np.int64],
        bits: int,
    ) -> None:
        self.keys, self.columns, self.starts, self.bits = keys, columns, starts, bits

    @classmethod
    def of(cls, vocabulary: npt.NDArray[np.uint64]) -> BucketTable:
        """A table of about two buckets per key, so most buckets hold none or one."""
        bits = max(int(2 * len(vocabulary)).bit_length(), 4)
        buckets = _fibonacci_buckets(vocabulary, bits)
        order = np.argsort(buckets, kind="stable")
        starts = np.zeros((1 << bits) + 1, dtype=np.int64)
        np.cumsum(np.bincount(buckets, minlength=1 << bits), out=starts[1:])
        return cls(vocabulary[order], order.astype(np.int64), starts, bits)

    def lookup(self, hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """The column of each hash, -1 where it is not a key."""
        out = np.full(len(hashes), -1, dtype=np.int64)
        if not len(self.keys):
            return out
        bucket = _fibonacci_buckets(hashes, self.bits)
        position, end = self.starts[bucket], self.starts[bucket + 1]
        pending = np.flatnonzero(position < end)
        while len(pending):  # one pass per key in the fullest bucket searched: a handful
            at = position[pending]
            hit = self.keys[at] == hashes[pending]
            out[pending[hit]] = self.columns[at[hit]]
            position[pending] += 1
            pending = pending[~hit & (position[pending] < end[pending])]
        return out


def _joined(parts: list[npt.NDArray[Any]], dtype: type) -> npt.NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _word_hashes(joined: str, lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """One 64-bit hash per word of ``joined`` (the words concatenated, ``lengths`` apart)."""
    if not len(lengths):
        return np.zeros(0, dtype=np.uint64)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(len(codes)) - np.repeat(starts, lengths)
    # Powers of an odd multiplier by position in the word (uint64 wraps: that is the hash).
    powers = np.ones(int(lengths.max()), dtype=np.uint64)
    powers[1:] = np.cumprod(np.full(len(powers) - 1, 1_000_003, dtype=np.uint64))
    hashed: npt.NDArray[np.uint64] = np.add.reduceat(codes * powers[position], starts)
    return hashed + lengths.astype(np.uint64)  # the length tells a word from one padded with nothing


def _fibonacci_buckets(hashes: npt.NDArray[np.uint64], bits: int) -> npt.NDArray[np.int64]:
    """The bucket of each hash among ``2**bits``: the top bits of a multiply spread them evenly."""
    return ((hashes * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits)).astype(np.int64)
