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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from classifiers.encoder import BASE_MODEL
from classifiers.encoder_training import TrainableEncoder
from classifiers.ensemble import AveragedClassifier
from classifiers.errors import TrainingDataError
from classifiers.linear import RARE_SUPPORT, Block, LinearTextModel, decide
from classifiers.risk import ALERT_RISK, letter_risk
from classifiers.sentiment import NEGATIVE, NEUTRAL, POSITIVE
from classifiers.store import ModelCard, data_hash
from classifiers.tasks import GENRES, MODEL_KINDS, TASKS

MODEL_VERSION = "2"
_SENTIMENT_SPELLINGS = {
    **dict.fromkeys(("1", "pos", "positive", "正面", "积极"), POSITIVE),
    **dict.fromkeys(("0", "neg", "negative", "负面", "消极"), NEGATIVE),
    **dict.fromkeys(("2", "neutral", "中性", "中立"), NEUTRAL),
}
URGENT, NOT_URGENT = "yes", "no"
_URGENCY_SPELLINGS = {
    **dict.fromkeys(("yes", "y", "1", "true", "是", "紧急", "urgent"), URGENT),
    **dict.fromkeys(("no", "n", "0", "false", "否", "不紧急", "一般"), NOT_URGENT),
}


@dataclass(frozen=True)
class TaskSpec:
    """What a task trains: its model name, factory and default parameters."""

    name: str
    factory: Callable[..., Any]
    params: dict[str, Any]


def linear_model(
    *,
    blocks: Sequence[dict[str, Any]],
    chars: Sequence[int] | None = None,
    word_range: Sequence[int] | None = None,
    **params: Any,
) -> LinearTextModel:
    """A :class:`LinearTextModel` from JSON-able parameters (as a card records them).

    ``chars`` / ``word_range`` are shorthands that override the n-gram range of the whole-text
    character / word block (a word block is added where the recipe has none).
    """
    parsed = [Block.from_json(b) for b in blocks]
    for unit, ngram in (("char", chars), ("word", word_range)):
        if ngram is None:
            continue
        whole = [i for i, b in enumerate(parsed) if b.unit == unit and b.region == "all"]
        if whole:
            parsed[whole[0]] = replace(parsed[whole[0]], ngram=(int(ngram[0]), int(ngram[1])))
        else:
            parsed.append(Block(unit, (int(ngram[0]), int(ngram[1]))))
    return LinearTextModel(blocks=parsed, **params)


def _char(low: int, high: int, region: str = "all", span: int = 0, weight: float = 1.0) -> dict[str, Any]:
    return {"unit": "char", "ngram": [low, high], "region": region, "span": span, "weight": weight}


def _word(low: int, high: int, region: str = "all", span: int = 0, weight: float = 1.0) -> dict[str, Any]:
    return {"unit": "word", "ngram": [low, high], "region": region, "span": span, "weight": weight}


# The recipes, chosen by 5-fold cross-validation on the training files (docs/classifiers.md gives the
# figures of each alternative). Letters (boards, hotlines) and social posts (Weibo) are different
# kinds of text: sentiment has one recipe per genre; appeal and urgency exist for letters only.
SOCIAL, LETTER = "social", "letter"
RECIPES: dict[tuple[str, str], TaskSpec] = {
    ("sentiment", SOCIAL): TaskSpec(
        "sentiment-char-ngram",
        linear_model,
        {"blocks": [_char(1, 4)], "C": 16.0, "class_weight": None, "calibrate": 3},
    ),
    ("sentiment", LETTER): TaskSpec(
        "sentiment-letter-ngram",
        linear_model,
        {"blocks": [_char(1, 2), _word(1, 1)], "C": 1.0, "class_weight": "balanced"},
    ),
    ("topic", LETTER): TaskSpec(
        "topic-word-char-svm",
        linear_model,
        {
            "blocks": [_char(1, 3), _word(1, 2)],
            "classifier": "svm",
            "C": 1.0,
            "class_weight": "balanced",
            "calibrate": 3,
        },
    ),
    ("appeal", LETTER): TaskSpec(
        "appeal-letter-ngram",
        linear_model,
        {
            "blocks": [_char(1, 2), _char(1, 2, "head", 100, 0.5), _char(1, 2, "tail", 100, 0.5)],
            "classifier": "svm",
            "C": 0.3,
            "class_weight": "balanced",
            "calibrate": 3,
        },
    ),
    ("urgency", LETTER): TaskSpec(
        "urgency-letter-ngram",
        linear_model,
        {"blocks": [_char(1, 2), _word(1, 2)], "C": 16.0, "class_weight": "balanced", "phrases": 400},
    ),
}
GENRE_OF_TASK = {"sentiment": SOCIAL, "topic": LETTER, "appeal": LETTER, "urgency": LETTER}
SPECS = {task: RECIPES[(task, genre)] for task, genre in GENRE_OF_TASK.items()}
# The same tasks on the fine-tuned pretrained encoder (more accurate on Weibo, ~100x slower to apply),
# and the encoder averaged with the n-gram model. m3e-small is research-only: an option, never a default.
ENCODER_PARAMS = {"epochs": 3, "learning_rate": 5e-5, "batch_size": 32, "max_tokens": 128}


def _ensemble(task: str, genre: str | None = None, **encoder_params: Any) -> AveragedClassifier:
    linear = recipe(task, genre)
    return AveragedClassifier([linear.factory(**linear.params), TrainableEncoder(**encoder_params)])


KINDS: dict[str, dict[str, TaskSpec]] = {
    "linear": SPECS,
    "encoder": {
        task: TaskSpec(f"{task}-encoder-{BASE_MODEL}", TrainableEncoder, ENCODER_PARAMS) for task in SPECS
    },
    "ensemble": {
        task: TaskSpec(
            f"{SPECS[task].name}+encoder-{BASE_MODEL}", functools.partial(_ensemble, task), ENCODER_PARAMS
        )
        for task in SPECS
    },
}


def recipe(task: str, genre: str | None = None) -> TaskSpec:
    """The n-gram recipe of ``task`` for ``genre`` (its usual genre when None)."""
    if task not in GENRE_OF_TASK:
        raise TrainingDataError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    chosen = genre or GENRE_OF_TASK[task]
    if chosen not in GENRES:
        raise TrainingDataError(f"unknown genre {chosen!r}: use one of {', '.join(GENRES)}")
    # Topic reads every genre with one model; appeal and urgency are read from letters only.
    return RECIPES.get((task, chosen)) or RECIPES[(task, GENRE_OF_TASK[task])]


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
    """Labels as the task's model predicts them (sentiment and urgency spellings unified)."""
    spellings = {"sentiment": _SENTIMENT_SPELLINGS, "urgency": _URGENCY_SPELLINGS}.get(task)
    if spellings is None:
        return list(labels)
    unknown = sorted({label for label in labels if label.lower() not in spellings})
    if unknown:
        expected = "positive/negative/neutral (or 1/0)" if task == "sentiment" else "yes/no (or 1/0)"
        raise TrainingDataError(f"{task} labels must be {expected}: got {unknown[:5]}")
    return [spellings[label.lower()] for label in labels]


def task_spec(task: str, kind: str = "linear", genre: str | None = None) -> TaskSpec:
    """What ``task`` trains as a model of ``kind`` for ``genre``; a clear error for an unknown one."""
    if task not in SPECS:
        raise TrainingDataError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    if kind not in KINDS:
        raise TrainingDataError(f"unknown model kind {kind!r}: use one of {', '.join(MODEL_KINDS)}")
    if kind == "linear":
        return recipe(task, genre)
    if kind == "ensemble" and genre is not None:
        base = recipe(task, genre)
        return TaskSpec(
            f"{base.name}+encoder-{BASE_MODEL}", functools.partial(_ensemble, task, genre), ENCODER_PARAMS
        )
    return KINDS[kind][task]


def train(
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    kind: str = "linear",
    genre: str | None = None,
    extra: tuple[Sequence[str], Sequence[str]] | None = None,
    **overrides: Any,
) -> tuple[Any, ModelCard]:
    """Fit the task's model of ``kind`` on labelled texts (plus ``extra`` rows); return it with a card."""
    spec = task_spec(task, kind, genre)
    all_texts = list(texts) + list(extra[0] if extra else [])
    y = normalise_labels(task, list(labels) + list(extra[1] if extra else []))
    if len(set(y)) < 2:
        raise TrainingDataError(f"{task}: needs at least two labels, got {sorted(set(y))}")
    params = {**spec.params, **overrides}
    started = time.monotonic()
    model = spec.factory(**params).fit(all_texts, y)
    return model, new_card(
        spec.name, task, (all_texts, y), params, started, genre=genre or GENRE_OF_TASK[task]
    )


def cross_validate(
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    genre: str | None = None,
    folds: int = 5,
    extra: tuple[Sequence[str], Sequence[str]] | None = None,
    factory: Callable[[], Any] | None = None,
) -> tuple[dict[str, Any], np.ndarray, list[str]]:
    """Stratified ``folds``-fold figures of the task's recipe, with out-of-fold probabilities.

    ``extra`` rows (seed examples, staff corrections) join every training fold and are never scored.
    Returns (figures, out-of-fold probabilities, their classes).
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.array(normalise_labels(task, labels))
    extra_texts = list(extra[0]) if extra else []
    extra_y = normalise_labels(task, list(extra[1])) if extra else []
    spec = recipe(task, genre)
    make = factory or (lambda: spec.factory(**spec.params))
    classes = sorted(set(y) | set(extra_y))
    oof = np.zeros((len(y), len(classes)))
    smallest = min(int((y == c).sum()) for c in set(y))
    splitter = StratifiedKFold(n_splits=min(folds, max(smallest, 2)), shuffle=True, random_state=0)
    started = time.perf_counter()
    fold_of = np.zeros(len(y), dtype=int)
    for fold, (fit_rows, test_rows) in enumerate(splitter.split(np.zeros(len(y)), y)):
        model = make().fit([texts[i] for i in fit_rows] + extra_texts, list(y[fit_rows]) + extra_y)
        columns = [classes.index(str(c)) for c in model.classes_]
        oof[np.ix_(test_rows, columns)] = model.predict_proba([texts[i] for i in test_rows])
        fold_of[test_rows] = fold
    # Classes rare in the whole file are as rare in each fold's training part.
    counts = {c: int((y == c).sum()) + extra_y.count(c) for c in classes}
    rare = [c for c in classes if counts[c] < RARE_SUPPORT]
    predicted = [classes[i] for i in decide(oof, classes, rare)]
    figures = scores(task, list(y), predicted, oof, classes)
    if task == "urgency" and URGENT in classes:
        # Each fold's alert threshold is chosen on the other folds' out-of-fold probabilities, as
        # `models build` chooses it on all of them: the letters scored never choose their own.
        urgent, actual = oof[:, classes.index(URGENT)], y == URGENT
        per_row = np.zeros(len(y))
        for fold in np.unique(fold_of):
            others = fold_of != fold
            per_row[~others] = best_threshold(actual[others], urgent[others])
        figures.update(risk_figures(list(y), urgent, texts, per_row))
    figures["folds"] = splitter.get_n_splits()
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures, oof, classes


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
    probabilities = np.asarray(model.predict_proba(list(texts)))
    seconds = time.perf_counter() - started
    classes = [str(c) for c in model.classes_]
    predicted = [classes[i] for i in decide(probabilities, classes, getattr(model, "rare_classes", ()))]
    figures = scores(task, truth, predicted, probabilities, classes)
    figures["posts_per_second"] = round(len(truth) / seconds) if seconds > 0 else None
    return figures


def scores(
    task: str,
    truth: Sequence[str],
    predicted: Sequence[str],
    probabilities: np.ndarray | None = None,
    classes: Sequence[str] = (),
) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class figures; for urgency also ROC AUC of P(urgent)."""
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    out: dict[str, Any] = {
        "task": task,
        "rows": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
        "per_class": {
            c: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(n),
            }
            for c, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
        },
    }
    if task == "urgency" and probabilities is not None and URGENT in classes and len(set(truth)) == 2:
        from sklearn.metrics import roc_auc_score

        p = probabilities[:, list(classes).index(URGENT)]
        out["roc_auc"] = round(float(roc_auc_score([t == URGENT for t in truth], p)), 4)
    return out


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


def risk_figures(
    truth: Sequence[str], urgent: np.ndarray, texts: Sequence[str], alert_probability: float | np.ndarray
) -> dict[str, Any]:
    """How the risk score (0–100) ranks urgent letters: ROC AUC, and precision/recall of the alert.

    The risk is computed as the enrichment computes it for letters (urgency, sensitive terms; no
    votes here); an alert is raised at ``ALERT_RISK``. ``alert_probability`` may differ per row
    (chosen without that row's fold, in cross-validation).
    """
    from sklearn.metrics import roc_auc_score

    thresholds = np.broadcast_to(np.asarray(alert_probability, dtype=float), urgent.shape)
    risk = np.array(
        [
            letter_risk(float(p), float(t), [], "", text, None)["score"]
            for p, t, text in zip(urgent, thresholds, texts, strict=True)
        ]
    )
    actual = np.array([t == URGENT for t in truth])
    flagged = risk >= ALERT_RISK
    tp = int((flagged & actual).sum())
    return {
        "risk_roc_auc": round(float(roc_auc_score(actual, risk)), 4),
        "alert_risk": ALERT_RISK,
        "alert_precision": round(tp / max(int(flagged.sum()), 1), 4),
        "alert_recall": round(tp / max(int(actual.sum()), 1), 4),
        "alerts": int(flagged.sum()),
    }


def best_threshold(truth: np.ndarray, probability: np.ndarray) -> float:
    """The probability threshold with the best F1 of "urgent" (``truth`` True) on held-out predictions."""
    best, best_f1 = 0.5, -1.0
    for t in np.unique(np.round(probability, 3)):
        flagged = probability >= t
        tp = float((flagged & truth).sum())
        if tp == 0:
            continue
        f1 = 2 * tp / (flagged.sum() + truth.sum())
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def with_appeal_prior(
    truth: Sequence[str],
    sentiment: tuple[np.ndarray, Sequence[str]],
    appeal: tuple[np.ndarray, Sequence[str]],
    weight: float,
) -> dict[str, Any]:
    """Letter-sentiment figures when the appeal model's reading is added at ``weight`` (as the
    enrichment does, ``appeal_prior``), from out-of-fold probabilities of both models."""
    from classifiers.sentiment import appeal_attitudes, with_attitude

    probabilities, classes = sentiment
    combined = with_attitude(probabilities, classes, appeal_attitudes(list(appeal[1]), appeal[0]), weight)
    counts = {c: list(truth).count(c) for c in classes}
    rare = [c for c in classes if counts[c] < RARE_SUPPORT]
    predicted = [classes[i] for i in decide(combined, classes, rare)]
    return {"appeal_prior": weight, **scores("sentiment", truth, predicted, combined, classes)}
