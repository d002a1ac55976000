"""Text features shared by the trained models: cleaning, jieba words and character n-grams.

Every callable a vectorizer holds is a module-level function, so a fitted Pipeline pickles and
loads in another process.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

# Weibo markup that says nothing about sentiment or topic: {%location%} and {%video%} tags, links,
# the "//@name:" of each repost layer, @mentions and zero-width spaces; and runs of whitespace, which
# scikit-learn's character analyzer folds into one space too.
_MARKUP = re.compile(r"\{%.*?%\}|https?://\S+|O网页链接|//@[^:：\s]*[:：]|@[\w\-]+|[\u200b\ufeff]|\s\s+")


# The enrichment hands the same "title text" string to the sentiment model's character n-grams and
# to the topic model's characters and words: cleaning (NFKC above all, ~12 µs per post) is done once
# for the three. A batch is at most a few thousand posts.
@functools.lru_cache(maxsize=4096)
def clean_text(text: str) -> str:
    """NFKC-folded, lowercased text without Weibo markup or runs of whitespace."""
    return _MARKUP.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def words(text: str) -> list[str]:
    """jieba's words of an already cleaned text (HMM off: the same word always cuts the same way)."""
    from archive.tokens import words as cut

    return cut(text)


class _NgramHasher(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """What the character and word hashers share: no fitting, and counts in hashed buckets."""

    ngram_range: tuple[int, int]
    n_features: int

    def fit(self, texts: Sequence[str], y: object = None) -> _NgramHasher:
        """Nothing to learn."""
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """One row of n-gram counts per text, in hashed buckets."""
        rows, hashes = self.ngram_hashes(texts)
        return _bucket_counts(rows, hashes, len(texts), self.n_features)

    def ngram_hashes(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        """(text number, 64-bit hash) of every n-gram of the cleaned texts."""
        raise NotImplementedError


class CharNgramHasher(_NgramHasher):
    """Counts of hashed character n-grams of the cleaned texts, computed with numpy for a whole batch.

    scikit-learn's character analyzer builds every n-gram as a Python string and looks it up in a
    vocabulary (~250 µs per post); hashing the code points of all posts at once is several times
    faster. On its own (``transform``) it folds the hashes into ``n_features`` buckets, as the
    models trained before :class:`NgramVocabulary` existed expect; wrapped in one, the 64-bit
    hashes are looked up in a vocabulary instead, with no collisions.
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 4), n_features: int = 2**20) -> None:
        self.ngram_range = ngram_range
        self.n_features = n_features

    def ngram_hashes(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        """(text number, 64-bit hash) of every character n-gram of the cleaned texts."""
        return char_ngram_hashes([clean_text(t) for t in texts], self.ngram_range)


class WordNgramHasher(_NgramHasher):
    """Hashed jieba word n-grams of the cleaned texts, hashed with numpy for a whole batch.

    A vocabulary vectorizer builds every word bigram as a Python string and looks it up (~130 µs per
    post on top of the segmentation); here each word's code points are hashed at once (a polynomial
    in the character's position within its word) and an n-gram combines its words' hashes.
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), n_features: int = 2**20) -> None:
        self.ngram_range = ngram_range
        self.n_features = n_features

    def ngram_hashes(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        """(text number, 64-bit hash) of every word n-gram of the cleaned texts."""
        return word_ngram_hashes([words(clean_text(t)) for t in texts], self.ngram_range)


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


class NgramVocabulary(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """An n-gram vocabulary kept as sorted 64-bit hashes: a vocabulary's features at a hasher's speed.

    ``fit`` keeps the n-grams found in at least ``min_df`` training texts (the ``max_features``
    most frequent of them), as ``TfidfVectorizer`` does; ``transform`` looks each hashed n-gram up
    with one ``searchsorted`` and drops the unknown ones. 64-bit hashes of a few million distinct
    n-grams practically never collide, unlike 2**20 buckets: long board messages hold more distinct
    n-grams than that, and bucket sharing cost ~1 point of topic macro-F1.
    """

    def __init__(
        self,
        hasher: CharNgramHasher | WordNgramHasher,
        *,
        min_df: int = 2,
        max_features: int | None = None,
    ) -> None:
        self.hasher = hasher
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, texts: Sequence[str], y: object = None) -> NgramVocabulary:
        """Keep the n-grams of ``texts`` frequent enough to learn from."""
        rows, hashes = self.hasher.ngram_hashes(texts)
        pairs = np.unique(np.stack([hashes, rows.astype(np.uint64)]), axis=1)  # each n-gram once per text
        unique, document_frequency = np.unique(pairs[0], return_counts=True)
        kept = unique[document_frequency >= self.min_df]
        if self.max_features is not None and len(kept) > self.max_features:
            known, occurrences = np.unique(hashes[np.isin(hashes, kept)], return_counts=True)
            # The most frequent first; the hash breaks ties so that a refit keeps the same n-grams.
            top = np.lexsort((known, -occurrences))[: self.max_features]
            kept = np.sort(known[top])
        self.hashes_: npt.NDArray[np.uint64] = kept
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """One row of counts of the known n-grams per text."""
        rows, hashes = self.hasher.ngram_hashes(texts)
        columns = self._lookup(hashes)
        known = columns >= 0
        counts = sparse.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (rows[known], columns[known])),
            shape=(len(texts), len(self.hashes_)),
        )
        counts.sum_duplicates()
        return counts

    def _lookup(self, hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """The column of each hash, -1 where it is not in the vocabulary."""
        # A binary search over a few hundred thousand hashes costs ~19 cache misses per n-gram; a
        # bucket table (built on first use, not pickled) costs about one.
        if getattr(self, "_table", None) is None:
            self._table = BucketTable.of(self.hashes_)
        return self._table.lookup(hashes)

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_table", None)
        return state


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


def _bucket_counts(
    rows: npt.NDArray[np.int64], hashes: npt.NDArray[np.uint64], n_rows: int, n_features: int
) -> sparse.csr_matrix:
    """A count matrix from (row, hash) pairs, hashes folded into ``n_features`` buckets."""
    columns = _fibonacci_buckets(hashes, int(n_features).bit_length() - 1)
    counts = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(n_rows, n_features)
    )
    counts.sum_duplicates()
    return counts


def char_ngrams(
    ngram_range: tuple[int, int] = (1, 4), *, max_features: int | None = 500_000, hashed: bool = True
) -> TfidfVectorizer | Pipeline:
    """TF-IDF over the ``max_features`` most frequent character n-grams seen in two training texts.

    Sublinear tf: repetition saturates. ``hashed`` keeps the vocabulary as 64-bit hashes
    (:class:`NgramVocabulary`), ~5x faster to apply than scikit-learn's string vocabulary.
    """
    if hashed:
        return _hashed_tfidf(CharNgramHasher(ngram_range), max_features)
    return TfidfVectorizer(
        analyzer="char",
        preprocessor=clean_text,
        ngram_range=ngram_range,
        min_df=2,
        max_features=max_features,
        sublinear_tf=True,
        dtype=_float32(),
    )


def word_ngrams(
    ngram_range: tuple[int, int] = (1, 2), *, max_features: int | None = 300_000, hashed: bool = True
) -> TfidfVectorizer | Pipeline:
    """TF-IDF over jieba word n-grams of the cleaned text; ``hashed`` as for :func:`char_ngrams`."""
    if hashed:
        return _hashed_tfidf(WordNgramHasher(ngram_range), max_features)
    return TfidfVectorizer(
        preprocessor=clean_text,
        tokenizer=words,
        token_pattern=None,
        lowercase=False,
        ngram_range=ngram_range,
        min_df=2,
        max_features=max_features,
        sublinear_tf=True,
        dtype=_float32(),
    )


def text_features(
    *,
    chars: tuple[int, int] = (1, 4),
    word_range: tuple[int, int] | None = None,
    max_features: int | None = 500_000,
    hashed: bool = True,
) -> FeatureUnion | TfidfVectorizer | Pipeline:
    """Character n-grams, joined by jieba word n-grams when ``word_range`` is given."""
    chars_step = char_ngrams(chars, max_features=max_features, hashed=hashed)
    if word_range is None:
        return chars_step
    return FeatureUnion([("chars", chars_step), ("words", word_ngrams(word_range, hashed=hashed))])


def _hashed_tfidf(hasher: CharNgramHasher | WordNgramHasher, max_features: int | None) -> Pipeline:
    vocabulary = NgramVocabulary(hasher, min_df=2, max_features=max_features)
    return Pipeline([("ngrams", vocabulary), ("tfidf", TfidfTransformer(sublinear_tf=True))])


def _float32() -> type:
    # float32 halves the memory of the document-term matrix; the linear models do not need more.
    import numpy as np

    return np.float32
