"""Averaged probabilities of an n-gram model and the fine-tuned encoder: each errs on other posts.

On the Weibo sentiment test split the linear model and the encoder score 0.908 and 0.912 alone
and 0.930 averaged (docs/classifiers.md): the n-grams see every character of a long message, the
encoder (128 tokens) reads words in context. Plain averaging, no weights to tune on held-out data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from classifiers.errors import ClassifierError


class AveragedClassifier:
    """Members fitted on the same labels; ``predict_proba`` is the mean of theirs."""

    kind: ClassVar[str] = "averaged"

    @classmethod
    def from_members(cls, members: Sequence[Any]) -> AveragedClassifier:
        """An average of already fitted members (as loaded from storage)."""
        model = cls(members)
        model.classes_ = np.array(sorted(str(c) for c in model.members[0].classes_))
        return model

    @property
    def licence(self) -> str:
        """The licence conditions of its members (an encoder's research-only terms carry over)."""
        return "；".join(sorted({getattr(m, "licence", "") for m in self.members} - {""}))

    def __init__(self, members: Sequence[Any]) -> None:
        self.members = list(members)
        self.classes_: np.ndarray = np.array([])

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> AveragedClassifier:
        """Fit every member on the same texts and labels."""
        for member in self.members:
            member.fit(texts, labels)
        self.classes_ = np.array(sorted(str(c) for c in self.members[0].classes_))
        for member in self.members[1:]:
            if sorted(str(c) for c in member.classes_) != list(self.classes_):
                raise ClassifierError("ensemble members learned different classes")
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """The mean of the members' probabilities, columns in the order of ``classes_``."""
        total = np.zeros((len(texts), len(self.classes_)))
        position = {c: i for i, c in enumerate(self.classes_)}
        for member in self.members:
            columns = [position[str(c)] for c in member.classes_]
            total[:, columns] += member.predict_proba(texts)
        return total / len(self.members)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most likely class of each text."""
        return np.asarray(self.classes_[self.predict_proba(texts).argmax(1)])
