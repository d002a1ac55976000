"""Training and evaluation from labelled CSV: one function each, shared by the CLI and the benchmarks.

A task names a factory and how its labels are read. Labels are taken as they appear in the file,
except that sentiment's usual spellings (1/0, pos/neg, 正面/负面 …) become positive/negative/neutral,
because the enrichment reads those three names.
"""

from __future__ import annotations

import csv
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from classifiers.appeal import build_appeal_model
from classifiers.encoder import BASE_MODEL, EncoderClassifier
from classifiers.ensemble import AveragedClassifier
from classifiers.errors import TrainingDataError
from classifiers.sentiment import NEGATIVE, NEUTRAL, POSITIVE, build_sentiment_model
from classifiers.store import ModelCard, data_hash
from classifiers.tasks import MODEL_KINDS, TASKS
from classifiers.topic import build_topic_model

MODEL_VERSION = "1"
_SENTIMENT_SPELLINGS = {
    **dict.fromkeys(("1", "pos", "positive", "正面", "积极"), POSITIVE),
    **dict.fromkeys(("0", "neg", "negative", "负面", "消极"), NEGATIVE),
    **dict.fromkeys(("2", "neutral", "中性", "中立"), NEUTRAL),
}


@dataclass(frozen=True)
class TaskSpec:
    """What a task trains: its model name, factory and default parameters."""

    name: str
    factory: Callable[..., Any]
    params: dict[str, Any]


SPECS = {
    "sentiment": TaskSpec(
        "sentiment-char-ngram", build_sentiment_model, {"C": 16.0, "chars": (1, 4), "hashed": True}
    ),
    "topic": TaskSpec(
        "topic-word-char-svm", build_topic_model, {"C": 1.0, "chars": (1, 3), "word_range": (1, 2)}
    ),
    "appeal": TaskSpec("appeal-char-ngram", build_appeal_model, {"C": 4.0}),
}
# The same three tasks on the fine-tuned pretrained encoder (more accurate, ~100x slower to apply),
# and the encoder averaged with the n-gram model (the most accurate; as slow as the encoder).
ENCODER_PARAMS = {"epochs": 3, "learning_rate": 5e-5, "batch_size": 32, "max_tokens": 128}


def _ensemble(task: str, **encoder_params: Any) -> AveragedClassifier:
    linear = SPECS[task]
    return AveragedClassifier([linear.factory(**linear.params), EncoderClassifier(**encoder_params)])


KINDS: dict[str, dict[str, TaskSpec]] = {
    "linear": SPECS,
    "encoder": {
        task: TaskSpec(f"{task}-encoder-{BASE_MODEL}", EncoderClassifier, ENCODER_PARAMS) for task in SPECS
    },
    "ensemble": {
        task: TaskSpec(
            f"{SPECS[task].name}+encoder-{BASE_MODEL}", functools.partial(_ensemble, task), ENCODER_PARAMS
        )
        for task in SPECS
    },
}


def _read_columns(path: Path, columns: Sequence[str]) -> list[tuple[str, ...]]:
    """The named columns of each row of a UTF-8 CSV with a header, stripped; a clear error otherwise."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = set(columns) - set(reader.fieldnames or ())
            if missing:
                raise TrainingDataError(
                    f"{path}: no column {', '.join(sorted(missing))} (have {reader.fieldnames})"
                )
            return [tuple((r[c] or "").strip() for c in columns) for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TrainingDataError(f"{path}: cannot read CSV: {exc}") from exc


def read_labelled(
    path: Path, *, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[str]]:
    """(texts, labels) of a UTF-8 CSV with a header; rows without text or label are skipped."""
    rows = _read_columns(path, (text_column, label_column))
    kept = [(text, label) for text, label in rows if text and label]
    if not kept:
        raise TrainingDataError(f"{path}: no labelled rows")
    return [t for t, _ in kept], [label for _, label in kept]


def read_texts(path: Path, *, text_column: str = "text") -> list[str]:
    """The non-empty texts of one column of a UTF-8 CSV with a header (unlabelled posts)."""
    texts = [text for (text,) in _read_columns(path, (text_column,)) if text]
    if not texts:
        raise TrainingDataError(f"{path}: no texts in column {text_column}")
    return texts


def normalise_labels(task: str, labels: Sequence[str]) -> list[str]:
    """Labels as the task's model predicts them (sentiment spellings unified, others unchanged)."""
    if task != "sentiment":
        return list(labels)
    unknown = sorted({label for label in labels if label.lower() not in _SENTIMENT_SPELLINGS})
    if unknown:
        raise TrainingDataError(
            f"sentiment labels must be positive/negative/neutral (or 1/0): got {unknown[:5]}"
        )
    return [_SENTIMENT_SPELLINGS[label.lower()] for label in labels]


def task_spec(task: str, kind: str = "linear") -> TaskSpec:
    """What ``task`` trains as a model of ``kind``; a clear error for an unknown task or kind."""
    if task not in SPECS:
        raise TrainingDataError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    if kind not in KINDS:
        raise TrainingDataError(f"unknown model kind {kind!r}: use one of {', '.join(MODEL_KINDS)}")
    return KINDS[kind][task]


def train(
    task: str, texts: Sequence[str], labels: Sequence[str], *, kind: str = "linear", **overrides: Any
) -> tuple[Any, ModelCard]:
    """Fit the task's model of ``kind`` on labelled texts; return it with a card (metrics: evaluate)."""
    spec = task_spec(task, kind)
    y = normalise_labels(task, labels)
    if len(set(y)) < 2:
        raise TrainingDataError(f"{task}: needs at least two labels, got {sorted(set(y))}")
    params = {**spec.params, **overrides}
    started = time.monotonic()
    model = spec.factory(**params).fit(list(texts), y)
    return model, new_card(spec.name, task, (texts, y), params, started)


def new_card(
    name: str,
    task: str,
    data: tuple[Sequence[str], Sequence[str]],
    params: dict[str, Any],
    started: float,
    **facts: Any,
) -> ModelCard:
    """The card of a model just fitted on ``data`` with ``params`` (``started``: its monotonic start)."""
    texts, labels = data
    return ModelCard(
        name=name,
        version=MODEL_VERSION,
        task=task,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        data_sha256=data_hash(list(texts), list(labels)),
        params={
            **{k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
            "rows": len(labels),
            "classes": sorted(set(labels)),
            **facts,
            "fit_seconds": round(time.monotonic() - started, 1),
        },
    )


def evaluate(task: str, model: Any, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and prediction throughput."""
    truth = normalise_labels(task, labels)
    started = time.perf_counter()
    predicted = [str(p) for p in model.predict(list(texts))]
    seconds = time.perf_counter() - started
    classes = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    return {
        "task": task,
        "rows": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=classes, average="macro", zero_division=0)), 4
        ),
        "per_class": {
            c: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
        "posts_per_second": round(len(truth) / seconds) if seconds > 0 else None,
    }


def learning_curve(
    task: str,
    train_data: tuple[Sequence[str], Sequence[str]],
    test_data: tuple[Sequence[str], Sequence[str]],
    sizes: Sequence[int],
) -> list[dict[str, Any]]:
    """Test figures of models trained on the first ``n`` shuffled training rows, for each ``n``."""
    import random

    rows = list(zip(*train_data, strict=True))
    random.Random(0).shuffle(rows)  # noqa: S311 - a fixed shuffle, so the curve is reproducible
    out: list[dict[str, Any]] = []
    for n in sizes:
        subset = rows[:n]
        model, _ = train(task, [t for t, _ in subset], [label for _, label in subset])
        figures = evaluate(task, model, *test_data)
        out.append(
            {"train_rows": len(subset), "accuracy": figures["accuracy"], "macro_f1": figures["macro_f1"]}
        )
    return out
