"""Hashed text features: the same n-grams a vocabulary would count, without building their strings."""

from __future__ import annotations

import pickle

import numpy as np
from scipy import sparse

from classifiers.features import (
    CharNgramHasher,
    NgramVocabulary,
    WordNgramHasher,
    char_ngrams,
    word_ngrams,
)


def _row(matrix: sparse.csr_matrix, i: int) -> dict[int, float]:
    row = matrix.getrow(i)
    return dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))


def test_word_hasher_counts_each_word_and_each_adjacent_pair_once() -> None:
    counts = WordNgramHasher((1, 2)).transform(["我爱北京天安门", "北京天安门", ""])
    # 我/爱/北京/天安门: four words and three pairs; 北京/天安门: two and one; nothing in an empty text.
    assert counts.sum(axis=1).A1.tolist() == [7.0, 3.0, 0.0]
    shared = set(_row(counts, 0)) & set(_row(counts, 1))
    assert len(shared) == 3  # 北京, 天安门 and the pair 北京 天安门 hash to the same buckets


def test_word_hasher_matches_the_vocabulary_vectorizer_text_by_text() -> None:
    texts = ["小区垃圾堆了一个星期没人清理", "垃圾清理不及时，小区居民投诉", "公交车晚点", "晚点的公交车"]
    vocabulary = word_ngrams((1, 2), hashed=False)
    vocabulary.set_params(min_df=1, sublinear_tf=False, use_idf=False, norm=None)
    expected = vocabulary.fit_transform(texts)
    hashed = WordNgramHasher((1, 2)).transform(texts)
    for i in range(len(texts)):
        assert sorted(_row(hashed, i).values()) == sorted(_row(expected, i).values())
    # Word order matters for pairs: 公交车 晚点 and 晚点 公交车 share their words only.
    assert len(set(_row(hashed, 2)) & set(_row(hashed, 3))) == 2


def test_word_hashes_tell_a_word_from_its_parts() -> None:
    one = WordNgramHasher((1, 1)).transform(["中华人民共和国"])
    parts = WordNgramHasher((1, 1)).transform(["中华 人民 共和国"])
    assert not set(_row(one, 0)) & set(_row(parts, 0))


def test_hashed_vocabulary_gives_the_string_vocabulary_s_features() -> None:
    training = [
        "小区垃圾堆了一个星期没人清理",
        "垃圾清理不及时，小区居民投诉",
        "公交车晚点，居民投诉",
        "晚点的公交车",
    ]
    texts = ["垃圾没人清理，居民投诉小区", "公交车又晚点了", "毫不相干"]
    for hashed_step, string_step in (
        (char_ngrams((1, 3)), char_ngrams((1, 3), hashed=False)),
        (word_ngrams((1, 2)), word_ngrams((1, 2), hashed=False)),
    ):
        expected = string_step.fit(training).transform(texts)
        got = hashed_step.fit(training).transform(texts)
        assert got.shape[1] == expected.shape[1]  # the same n-grams kept: those in two texts
        for i in range(len(texts)):  # columns are ordered differently; the weights are the same
            assert np.allclose(sorted(_row(got, i).values()), sorted(_row(expected, i).values()))
    assert got.getrow(2).nnz == 0  # nothing known in an unrelated text


def test_max_features_keeps_the_most_frequent_ngrams() -> None:
    hasher = CharNgramHasher((1, 1))
    vocabulary = NgramVocabulary(hasher, min_df=1, max_features=2).fit(["投诉投诉", "投诉噪音", "诉"])
    counts = vocabulary.transform(["投诉噪音"])
    assert counts.shape == (1, 2) and counts.sum() == 2.0  # 投 and 诉 kept; 噪 and 音 dropped


def test_the_bucket_table_finds_every_key_and_nothing_else() -> None:
    rng = np.random.default_rng(7)
    keys = np.unique(rng.integers(0, 2**63, 5_000, dtype=np.uint64))
    vocabulary = NgramVocabulary(CharNgramHasher())
    vocabulary.hashes_ = keys
    queries = np.concatenate([keys[::-1], rng.integers(0, 2**63, 5_000, dtype=np.uint64)])
    expected = np.searchsorted(keys, queries)
    expected[(expected == len(keys)) | (keys[np.minimum(expected, len(keys) - 1)] != queries)] = -1
    assert (vocabulary._lookup(queries) == expected).all()
    assert (vocabulary._lookup(keys) >= 0).all()  # buckets of two and more are searched to the end


def test_a_pickled_vocabulary_leaves_its_table_behind_and_rebuilds_it() -> None:
    vocabulary = char_ngrams((1, 2)).fit(["投诉噪音", "噪音扰民", "投诉扰民"])
    before = vocabulary.transform(["噪音投诉"]).toarray()
    restored = pickle.loads(pickle.dumps(vocabulary))  # noqa: S301 - our own bytes
    assert "_table" not in restored.named_steps["ngrams"].__dict__
    assert np.array_equal(restored.transform(["噪音投诉"]).toarray(), before)
