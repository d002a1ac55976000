"""Text features shared by the trained models: cleaning, jieba words and character n-grams.

Every callable a vectorizer holds is a module-level function, so a fitted Pipeline pickles and
loads in another process.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

# Weibo markup that says nothing about sentiment or topic: {%location%} and {%video%} tags, links,
# the "//@name:" of each repost layer, @mentions and zero-width spaces.
_MARKUP = re.compile(r"\{%.*?%\}|https?://\S+|O网页链接|//@[^:：\s]*[:：]|@[\w\-]+|[\u200b\ufeff]")


def clean_text(text: str) -> str:
    """NFKC-folded, lowercased text without Weibo markup."""
    return _MARKUP.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def words(text: str) -> list[str]:
    """jieba's words of an already cleaned text (HMM off: the same word always cuts the same way)."""
    from archive.tokens import words as cut

    return cut(text)


class CharNgramHasher(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Counts of hashed character n-grams of the cleaned texts, computed with numpy for a whole batch.

    scikit-learn's character analyzer builds every n-gram as a Python string and looks it up in a
    vocabulary (~250 µs per post); hashing the code points of all posts at once is several times
    faster and needs no vocabulary (so no fitting and a small artifact). Collisions in 2**20
    buckets cost nothing measurable.
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 4), n_features: int = 2**20) -> None:
        self.ngram_range = ngram_range
        self.n_features = n_features

    def fit(self, texts: Sequence[str], y: object = None) -> CharNgramHasher:
        """Nothing to learn."""
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """One row of n-gram counts per text."""
        cleaned = [clean_text(t) for t in texts]
        lengths = np.fromiter((len(t) for t in cleaned), dtype=np.int64, count=len(cleaned))
        codes = np.frombuffer("".join(cleaned).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        ends = np.cumsum(lengths)
        doc_of = np.repeat(np.arange(len(cleaned)), lengths)
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[npt.NDArray[np.uint64]] = []
        low, high = self.ngram_range
        for n in range(low, high + 1):
            m = len(codes) - n + 1
            if m <= 0:
                continue
            h = np.full(m, n, dtype=np.uint64)  # n seeds the hash: 1-grams and 2-grams never share it
            for k in range(n):  # uint64 arithmetic wraps silently: that is the hash
                h = h * np.uint64(1_000_003) + codes[k : k + m]
            valid = np.arange(m) + n <= ends[doc_of[:m]]  # the n-gram ends inside its own text
            rows.append(doc_of[:m][valid])
            # Fibonacci hashing: the top bits of a multiply spread the buckets evenly.
            cols.append((h[valid] * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - self._bits))
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        col = np.concatenate(cols).astype(np.int64) if cols else np.zeros(0, dtype=np.int64)
        counts = sparse.csr_matrix(
            (np.ones(len(row), dtype=np.float32), (row, col)), shape=(len(cleaned), self.n_features)
        )
        counts.sum_duplicates()
        return counts

    @property
    def _bits(self) -> int:
        return int(self.n_features).bit_length() - 1


def char_ngrams(
    ngram_range: tuple[int, int] = (1, 4), *, max_features: int | None = 500_000, hashed: bool = False
) -> TfidfVectorizer | Pipeline:
    """TF-IDF over character n-grams of the cleaned text (sublinear tf: repetition saturates).

    ``hashed`` uses :class:`CharNgramHasher` (no vocabulary: ~5x faster to apply, slightly less
    accurate) instead of a vocabulary of the ``max_features`` most frequent n-grams seen twice.
    """
    if hashed:
        return Pipeline(
            [("hash", CharNgramHasher(ngram_range)), ("tfidf", TfidfTransformer(sublinear_tf=True))]
        )
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
    ngram_range: tuple[int, int] = (1, 2), *, max_features: int | None = 300_000
) -> TfidfVectorizer:
    """TF-IDF over jieba word n-grams of the cleaned text."""
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
    hashed: bool = False,
) -> FeatureUnion | TfidfVectorizer | Pipeline:
    """Character n-grams, joined by jieba word n-grams when ``word_range`` is given."""
    chars_step = char_ngrams(chars, max_features=max_features, hashed=hashed)
    if word_range is None:
        return chars_step
    return FeatureUnion([("chars", chars_step), ("words", word_ngrams(word_range))])


def _float32() -> type:
    # float32 halves the memory of the document-term matrix; the linear models do not need more.
    import numpy as np

    return np.float32
