"""The remit topic: a trained classifier, with the taxonomy's keywords as the cold-start fallback.

A department with labelled messages trains a model on them (``yuqing classify train --task topic``,
the recipe in :mod:`classifiers.training`); until then, and for posts the model is unsure of, the
keywords decide. A post that neither makes likely enough is answered "out of remit" (其他).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from classifiers.linear import Featurizer, model_probabilities
from classifiers.taxonomy import Taxonomy
from core.messages import TopicLabel

OUT_OF_REMIT = "其他"
TITLE_WEIGHT = 2


def keyword_topic(taxonomy: Taxonomy, title: str, text: str) -> TopicLabel:
    """The topic whose keywords weigh most in the post; title hits count double."""
    pattern, owners = _matcher(tuple((t.label, t.keywords) for t in taxonomy.topics))
    hits: dict[str, int] = {}
    for weight, body in ((TITLE_WEIGHT, title), (1, text)):
        for keyword in pattern.findall(body):
            for label in owners[keyword]:
                hits[label] = hits.get(label, 0) + weight
    total = sum(hits.values())
    if not total:
        return TopicLabel(label=OUT_OF_REMIT, score=0.0, in_remit=False, unit=None)
    best = max(hits, key=lambda label: (hits[label], label))
    # The share of keyword hits that went to the best topic, damped when there is little evidence.
    score = round(hits[best] / total * (1.0 - math.exp(-total)), 4)
    chosen = taxonomy.topic(best)
    if score < taxonomy.min_score or chosen is None:
        return TopicLabel(label=OUT_OF_REMIT, score=score, in_remit=False, unit=None)
    return TopicLabel(label=best, score=score, in_remit=True, unit=chosen.unit)


@lru_cache(maxsize=8)
def _matcher(topics: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[re.Pattern[str], dict[str, list[str]]]:
    # One regex for all keywords scans a post once instead of once per keyword; longest first, so
    # 停车位 counts as itself and not also as 停车.
    owners: dict[str, list[str]] = {}
    for label, keywords in topics:
        for keyword in keywords:
            owners.setdefault(keyword, []).append(label)
    if not owners:
        return re.compile(r"(?!)"), owners
    alternatives = "|".join(re.escape(k) for k in sorted(owners, key=lambda k: (-len(k), k)))
    return re.compile(alternatives), owners


@dataclass(frozen=True)
class TopicClassifier:
    """The remit topic of posts: the trained ``model`` if there is one, else (or when unsure) keywords."""

    taxonomy: Taxonomy
    model: Any = None  # a fitted topic Pipeline; None on a cold start
    # Below this probability the model is unsure: the keywords answer, or nobody (out of remit).
    min_probability: float = 0.4

    def classify_many(
        self, titles: Sequence[str], texts: Sequence[str], batch: Featurizer | None = None
    ) -> list[TopicLabel]:
        """One topic per post; batched, because the model is vectorised (``batch``: the posts'
        shared n-grams, "title text", where the enrichment has them)."""
        keyword = [keyword_topic(self.taxonomy, t, x) for t, x in zip(titles, texts, strict=True)]
        if self.model is None or not texts:
            return keyword
        joined = [f"{t} {x}" for t, x in zip(titles, texts, strict=True)]
        probabilities = model_probabilities(self.model, joined, batch)
        classes = [str(c) for c in self.model.classes_]
        out: list[TopicLabel] = []
        for row, fallback in zip(probabilities, keyword, strict=True):
            best = int(row.argmax())
            label, score = classes[best], round(float(row[best]), 4)
            topic = self.taxonomy.topic(label)
            if score >= self.min_probability and topic is not None:
                out.append(TopicLabel(label=topic.label, score=score, in_remit=True, unit=topic.unit))
            elif fallback["in_remit"]:  # the model is unsure (or its label is not ours): keywords
                out.append(fallback)
            else:
                out.append(TopicLabel(label=OUT_OF_REMIT, score=score, in_remit=False, unit=None))
        return out
