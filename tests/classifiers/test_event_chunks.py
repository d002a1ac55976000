"""MinHash signatures are the same whether a batch is hashed at once or in chunks."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers import events
from classifiers.events import MinHasher


def test_chunked_signatures_equal_those_of_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["小区物业长期不作为", "路灯", "", "某街道工地夜间施工扰民严重，多次投诉无果" * 5, "ab", "欠薪"]
    hasher = MinHasher()
    whole = hasher.signatures(texts)
    monkeypatch.setattr(events, "CHUNK_CHARS", 7)
    chunked = hasher.signatures(texts)
    assert whole.shape == (len(texts), hasher.permutations)
    assert np.array_equal(whole, chunked)
    assert np.array_equal(hasher.signatures(texts[3:4]), whole[3:4])
