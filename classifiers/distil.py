"""Distillation: the accurate, slow model teaches the fast n-gram model on unlabelled posts.

The ensemble (n-grams averaged with the fine-tuned encoder) is the most accurate sentiment model
but applies at ~24 posts/s per core; the n-gram model applies at thousands. A department has far
more unlabelled posts than labelled ones: the teacher's probabilities on them are labels the
n-gram model can learn from, so it gains much of the teacher's accuracy and keeps its own speed.

Each unlabelled post enters the student's training set once per class, weighted by the teacher's
probability of that class (soft labels: a 55/45 post teaches little, a 99/1 post a lot), beside the
labelled posts at full weight with their own labels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from classifiers.errors import TrainingDataError
from classifiers.features import clean_text
from classifiers.store import ModelCard, data_hash
from classifiers.training import new_card, normalise_labels, task_spec

log = logging.getLogger(__name__)
# The teacher reads this many posts at a time, so a long run logs its progress.
TEACHER_BATCH = 2000
# A class the teacher gives less than this adds a row of almost no weight: it is left out.
MIN_WEIGHT = 0.01


def unseen(unlabelled: Sequence[str], labelled: Sequence[str]) -> list[str]:
    """The unlabelled texts, each once, without those that are (after cleaning) labelled already."""
    seen = {clean_text(text).strip() for text in labelled}
    out: list[str] = []
    for text in unlabelled:
        key = clean_text(text).strip()
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def soft_rows(probabilities: np.ndarray, classes: Sequence[str]) -> tuple[list[int], list[str], list[float]]:
    """(text index, label, weight) rows: each text once per class, weighted by the teacher's probability."""
    rows: list[int] = []
    labels: list[str] = []
    weights: list[float] = []
    for index, row in enumerate(probabilities):
        for label, probability in zip(classes, row, strict=True):
            if probability >= MIN_WEIGHT:
                rows.append(index)
                labels.append(label)
                weights.append(float(probability))
    return rows, labels, weights


def calibration_folds(groups: Sequence[int], labels: Sequence[str], folds: int) -> list[Any]:
    """Calibration folds that keep every copy of a text on one side.

    A text taught as both classes, one copy fitted and the other held out, is "wrong" on the held-out
    side whatever it says: Platt scaling fitted on such folds learns to invert the model (seen).
    """
    splitter = StratifiedGroupKFold(n_splits=folds)
    return list(splitter.split(np.zeros(len(labels)), labels, groups))


def teacher_probabilities(teacher: Any, texts: Sequence[str]) -> np.ndarray:
    """The teacher's class probabilities for ``texts``, read in batches with progress logged."""
    parts: list[np.ndarray] = []
    started = time.monotonic()
    for start in range(0, len(texts), TEACHER_BATCH):
        parts.append(np.asarray(teacher.predict_proba(list(texts[start : start + TEACHER_BATCH]))))
        done = min(start + TEACHER_BATCH, len(texts))
        log.info("teacher read %d/%d posts (%.0f s)", done, len(texts), time.monotonic() - started)
    return np.concatenate(parts) if parts else np.zeros((0, len(teacher.classes_)))


def fit_student(
    student: Any,
    labelled: tuple[Sequence[str], Sequence[str]],
    pool: Sequence[str],
    probabilities: np.ndarray,
    classes: Sequence[str],
) -> Any:
    """Fit the n-gram ``student`` on labelled rows plus ``pool`` under the teacher's ``probabilities``."""
    texts, y = labelled
    taught, taught_labels, taught_weights = soft_rows(probabilities, classes)
    all_labels = list(y) + taught_labels
    groups = list(range(len(y))) + [len(y) + i for i in taught]
    return student.fit(
        list(texts) + [pool[i] for i in taught],
        all_labels,
        sample_weight=np.array([1.0] * len(y) + taught_weights),
        calibration_folds=calibration_folds(groups, all_labels, max(student.calibrate, 2)),
    )


def distil(
    task: str,
    teacher: Any,
    teacher_card: ModelCard,
    labelled: tuple[Sequence[str], Sequence[str]],
    unlabelled: Sequence[str],
    **overrides: Any,
) -> tuple[Any, ModelCard]:
    """The task's n-gram model fitted on ``labelled`` plus ``unlabelled`` soft-labelled by ``teacher``."""
    spec = task_spec(task)
    if teacher_card.task != task:
        raise TrainingDataError(f"the teacher is a {teacher_card.task} model, not {task}")
    texts, labels = labelled
    y = normalise_labels(task, labels)
    classes = [str(c) for c in teacher.classes_]
    if not set(classes) <= set(y) or len(set(y)) < 2:
        raise TrainingDataError(
            f"the teacher's classes {classes} must all occur among the labels {sorted(set(y))}"
        )
    pool = unseen(unlabelled, texts)
    if not pool:
        raise TrainingDataError("no unlabelled texts left to learn from (empty, or all labelled already)")
    started = time.monotonic()
    probabilities = teacher_probabilities(teacher, pool)
    params = {**spec.params, **overrides}
    student = fit_student(spec.factory(**params), (texts, y), pool, probabilities, classes)
    card = new_card(
        f"{spec.name}-distilled",
        task,
        (texts, y),
        params,
        started,
        teacher=teacher_card.ref,
        teacher_sha256=teacher_card.artifact_sha256,
        unlabelled_rows=len(pool),
        unlabelled_sha256=data_hash(pool, [""] * len(pool)),
    )
    return student, card
