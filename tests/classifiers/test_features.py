"""Hashed text features: the same n-grams and TF-IDF weights a string vocabulary gives, without
building their strings (what every block of a :class:`LinearTextModel` computes)."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from classifiers.features import BucketTable, char_ngram_hashes, clean_text, word_ngram_hashes, words
from classifiers.linear import Block, Featurizer, FittedBlock


def _row(matrix: sparse.csr_matrix, i: int) -> dict[int, float]:
    row = matrix.getrow(i)
    return dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))


def _word_hashes(texts: list[str], ngram: tuple[int, int]) -> list[list[int]]:
    """The word n-gram hashes of each text, one list per text."""
    rows, hashes = word_ngram_hashes([words(clean_text(t)) for t in texts], ngram)
    return [hashes[rows == i].tolist() for i in range(len(texts))]


def test_word_hashes_count_each_word_and_each_adjacent_pair_once() -> None:
    per_text = _word_hashes(["我爱北京天安门", "北京天安门", ""], (1, 2))
    # 我/爱/北京/天安门: four words and three pairs; 北京/天安门: two and one; nothing in an empty text.
    assert [len(h) for h in per_text] == [7, 3, 0]
    assert len(set(per_text[0]) & set(per_text[1])) == 3  # 北京, 天安门 and the pair 北京 天安门


def test_word_hashes_match_the_vocabulary_counts_text_by_text() -> None:
    texts = ["小区垃圾堆了一个星期没人清理", "垃圾清理不及时，小区居民投诉", "公交车晚点", "晚点的公交车"]
    vocabulary = CountVectorizer(
        preprocessor=clean_text, tokenizer=words, token_pattern=None, lowercase=False, ngram_range=(1, 2)
    )
    expected = vocabulary.fit_transform(texts)
    per_text = _word_hashes(texts, (1, 2))
    for i, hashes in enumerate(per_text):
        counts = sorted(np.unique(hashes, return_counts=True)[1].tolist())
        assert counts == sorted(_row(expected, i).values())
    # Word order matters for pairs: 公交车 晚点 and 晚点 公交车 share their words only.
    assert len(set(per_text[2]) & set(per_text[3])) == 2


def test_word_hashes_tell_a_word_from_its_parts() -> None:
    (one,) = _word_hashes(["中华人民共和国"], (1, 1))
    (parts,) = _word_hashes(["中华 人民 共和国"], (1, 1))
    assert not set(one) & set(parts)


def test_a_fitted_block_gives_the_string_vocabulary_s_tfidf_features() -> None:
    training = [
        "小区垃圾堆了一个星期没人清理",
        "垃圾清理不及时，小区居民投诉",
        "公交车晚点，居民投诉",
        "晚点的公交车",
    ]
    texts = ["垃圾没人清理，居民投诉小区", "公交车又晚点了", "毫不相干"]
    common = {"preprocessor": clean_text, "min_df": 2, "sublinear_tf": True}
    for block, string_step in (
        (Block("char", (1, 3)), TfidfVectorizer(analyzer="char", ngram_range=(1, 3), **common)),
        (
            Block("word", (1, 2)),
            TfidfVectorizer(
                tokenizer=words, token_pattern=None, lowercase=False, ngram_range=(1, 2), **common
            ),
        ),
    ):
        expected = string_step.fit(training).transform(texts)
        got = FittedBlock.fit(block, Featurizer(training)).matrix(Featurizer(texts))
        assert got.shape[1] == expected.shape[1]  # the same n-grams kept: those in two texts
        for i in range(len(texts)):  # columns are ordered differently; the weights are the same
            assert np.allclose(sorted(_row(got, i).values()), sorted(_row(expected, i).values()))
    assert got.getrow(2).nnz == 0  # nothing known in an unrelated text


def test_max_features_keeps_the_most_frequent_ngrams() -> None:
    block = Block("char", (1, 1), min_df=1, max_features=2)
    fitted = FittedBlock.fit(block, Featurizer(["投诉投诉", "投诉噪音", "诉"]))
    _, kept = char_ngram_hashes(["投", "诉"], (1, 1))
    assert sorted(fitted.hashes.tolist()) == sorted(kept.tolist())  # 投 and 诉 kept; 噪 and 音 dropped
    assert fitted.matrix(Featurizer(["投诉噪音"])).shape == (1, 2)


def test_the_bucket_table_finds_every_key_and_nothing_else() -> None:
    rng = np.random.default_rng(7)
    keys = np.unique(rng.integers(0, 2**63, 5_000, dtype=np.uint64))
    table = BucketTable.of(keys)
    queries = np.concatenate([keys[::-1], rng.integers(0, 2**63, 5_000, dtype=np.uint64)])
    expected = np.searchsorted(keys, queries)
    expected[(expected == len(keys)) | (keys[np.minimum(expected, len(keys) - 1)] != queries)] = -1
    assert (table.lookup(queries) == expected).all()
    assert (table.lookup(keys) >= 0).all()  # buckets of two and more are searched to the end
