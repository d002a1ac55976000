"""A linear model over TF-IDF blocks of n-grams, kept as plain arrays: fast to apply, safe to load.

A *block* is a TF-IDF (sublinear tf, smoothed idf, rows L2-normalised) over character or jieba word
n-grams of one *region* of the cleaned text: all of it, its first ``span`` characters or its last.
The regions matter for letters: the request sits at a letter's end (恳请……严查 says 举报, 希望……
解决 says 投诉), the subject at its start. Blocks are concatenated, each times its weight, into a
logistic regression or a linear SVM (then Platt-calibrated) that scikit-learn fits.

The fitted model is only arrays (sorted 64-bit n-gram hashes, idf, coefficients, calibration) and a
JSON spec: :meth:`LinearTextModel.to_arrays` / :meth:`from_arrays` store it without pickle, and
prediction is numpy alone. A batch's n-gram hashes are computed once per block shape and shared by
every model that reads the same batch (:class:`Featurizer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.special import expit

from classifiers.errors import ClassifierError
from classifiers.features import BucketTable, char_ngram_hashes, clean_text, word_ngram_hashes, words

# "cue" is one token per text: the appeal type the cue rules read in it (classifiers.appeal), so a
# model can weigh what the hand-written rules know against what it learned.
UNITS = ("char", "word", "cue")
REGIONS = ("all", "head", "tail")
LINKS = ("sigmoid", "logistic", "softmax")
# A class with fewer training rows than this (8 letters of praise among 2,800) is chosen only when the
# model gives it at least RARE_MIN_PROBABILITY: balanced class weights otherwise make it a frequent
# false alarm, and a class predicted but absent costs a whole class's F1.
RARE_SUPPORT = 20
# Words that may weigh in a model but explain nothing to a reader of its reasons.
_FILLER_WORDS = (
    "我们 他们 你们 我的 已经 任何 时候 都是 不知道 到底 有人 没有 一个 这个 那个 什么 可以 现在 出现 "
    "还是 就是 但是 因为 所以 而且 如果 这样 这些 那些 自己 一直 不能 不是 的话 之后 之前 以后"
)
FILLER = frozenset(_FILLER_WORDS.split())
RARE_MIN_PROBABILITY = 0.5
Hashes = tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]


@dataclass(frozen=True)
class Block:
    """One block of features: which n-grams, of which part of the text, weighted how."""

    unit: str = "char"
    ngram: tuple[int, int] = (1, 3)
    region: str = "all"
    span: int = 0  # characters of the head or tail region
    weight: float = 1.0
    max_features: int | None = 500_000
    min_df: int = 2

    def __post_init__(self) -> None:
        if self.unit not in UNITS or self.region not in REGIONS:
            raise ClassifierError(f"block: unit must be one of {UNITS}, region one of {REGIONS}")
        if self.region != "all" and self.span <= 0:
            raise ClassifierError("block: a head or tail region needs a span > 0")
        low, high = self.ngram
        if not 1 <= low <= high:
            raise ClassifierError(f"block: bad n-gram range {self.ngram}")

    @property
    def key(self) -> tuple[str, tuple[int, int], str, int]:
        """What the n-gram hashes depend on (not the weight or vocabulary size)."""
        return (self.unit, tuple(self.ngram), self.region, self.span)  # type: ignore[return-value]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ngram": list(self.ngram)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Block:
        return cls(**{**data, "ngram": tuple(data["ngram"])})


class Featurizer:
    """A batch of texts, cleaned once; the n-gram hashes of each block shape computed once."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.cleaned = [clean_text(t) for t in texts]
        self._hashes: dict[Any, Hashes] = {}
        self._words: dict[tuple[str, int], list[list[str]]] = {}
        self.matrices: dict[int, sparse.csr_matrix] = {}  # by model, for the life of the batch

    def __len__(self) -> int:
        return len(self.cleaned)

    def region(self, region: str, span: int) -> list[str]:
        """The cleaned texts cut to ``region``."""
        if region == "head":
            return [t[:span] for t in self.cleaned]
        if region == "tail":
            return [t[-span:] for t in self.cleaned]
        return self.cleaned

    def tokens(self, region: str, span: int) -> list[list[str]]:
        """jieba's words of each text's region (segmentation is the costly part: done once)."""
        key = (region, span)
        if key not in self._words:
            self._words[key] = [words(t) for t in self.region(region, span)]
        return self._words[key]

    def cues(self, region: str, span: int) -> list[list[str]]:
        """The cue rules' appeal type of each text's region, as a one-word text."""
        from classifiers.appeal import appeal_type  # the rules import this module's Featurizer

        return [[f"cue:{appeal_type('board', '', t)}"] for t in self.region(region, span)]

    def hashes(self, block: Block) -> Hashes:
        """(text number, hash) of every n-gram ``block`` reads."""
        # Per n, so that a (1, 3) block and a (1, 4) block of the same region share 1- to 3-grams.
        parts = [
            self._hashes_of(block.unit, n, block.region, block.span)
            for n in range(block.ngram[0], block.ngram[1] + 1)
        ]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([r for r, _ in parts]), np.concatenate([h for _, h in parts])

    def _hashes_of(self, unit: str, n: int, region: str, span: int) -> Hashes:
        key = (unit, n, region, span)
        if key not in self._hashes:
            if unit == "char":
                self._hashes[key] = char_ngram_hashes(self.region(region, span), (n, n))
            elif unit == "cue":
                self._hashes[key] = word_ngram_hashes(self.cues(region, span), (1, 1))
            else:
                self._hashes[key] = word_ngram_hashes(self.tokens(region, span), (n, n))
        return self._hashes[key]


@dataclass
class FittedBlock:
    """A block with its vocabulary (sorted hashes) and idf."""

    block: Block
    hashes: npt.NDArray[np.uint64]
    idf: npt.NDArray[np.float32]
    _table: BucketTable | None = field(default=None, repr=False)

    @classmethod
    def fit(cls, block: Block, batch: Featurizer) -> FittedBlock:
        """Keep the n-grams in at least ``min_df`` texts (the most frequent ``max_features``)."""
        rows, hashes = batch.hashes(block)
        pairs = np.unique(np.stack([hashes, rows.astype(np.uint64)]), axis=1)  # each n-gram once per text
        unique, document_frequency = np.unique(pairs[0], return_counts=True)
        keep = document_frequency >= block.min_df
        kept, df = unique[keep], document_frequency[keep]
        if block.max_features is not None and len(kept) > block.max_features:
            known, occurrences = np.unique(hashes[np.isin(hashes, kept)], return_counts=True)
            # The most frequent first; the hash breaks ties so that a refit keeps the same n-grams.
            top = np.sort(np.lexsort((known, -occurrences))[: block.max_features])
            kept, df = known[top], df[np.searchsorted(unique[keep], known[top])]
        n = len(batch)
        idf = (np.log((1 + n) / (1 + df.astype(np.float64))) + 1).astype(np.float32)
        return cls(block, kept, idf)

    def matrix(self, batch: Featurizer) -> sparse.csr_matrix:
        """The block's TF-IDF rows for ``batch``, L2-normalised and weighted."""
        rows, hashes = batch.hashes(self.block)
        if self._table is None:
            self._table = BucketTable.of(self.hashes)
        columns = self._table.lookup(hashes)
        known = columns >= 0
        m = sparse.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (rows[known], columns[known])),
            shape=(len(batch), len(self.hashes)),
        )
        m.sum_duplicates()
        m.data = (1.0 + np.log(m.data)) * self.idf[m.indices]
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        scale = np.divide(self.block.weight, norms, out=np.zeros_like(norms), where=norms > 0)
        m.data *= np.repeat(scale, np.diff(m.indptr)).astype(np.float32)
        return m


class LinearTextModel:
    """Blocks of n-gram TF-IDF into a linear classifier, used like a scikit-learn classifier.

    ``classifier`` is ``logistic`` or ``svm``; ``calibrate`` (folds, 0 for none) Platt-scales the
    decision values (an SVM always needs it). ``phrases`` > 0 keeps the strings of that many
    n-grams that push hardest towards the positive class of a binary model, so that a prediction
    can say which phrases drove it (:meth:`explain`).
    """

    kind: ClassVar[str] = "linear-text"

    def __init__(
        self,
        *,
        blocks: Sequence[Block] = (Block(),),
        classifier: str = "logistic",
        C: float = 4.0,
        class_weight: str | None = "balanced",
        calibrate: int = 0,
        phrases: int = 0,
    ) -> None:
        if classifier not in ("logistic", "svm"):
            raise ClassifierError(f"classifier must be logistic or svm, not {classifier!r}")
        self.blocks = tuple(blocks)
        self.classifier = classifier
        self.C = C
        self.class_weight = class_weight
        self.calibrate = calibrate if classifier == "logistic" else max(calibrate, 3)
        self.phrases = phrases
        self.classes_: npt.NDArray[np.str_] = np.array([], dtype=str)
        self.fitted_: list[FittedBlock] = []
        self.coef_: npt.NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self.intercept_: npt.NDArray[np.float64] = np.zeros(0)
        self.link_ = "logistic"
        self.calibration_: npt.NDArray[np.float64] = np.zeros((0, 2))
        self.phrase_columns_: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.phrase_text_: npt.NDArray[np.str_] = np.array([], dtype=str)
        self.support_: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)

    @property
    def rare_classes(self) -> tuple[str, ...]:
        """Classes seen fewer than ``RARE_SUPPORT`` times in training (see :func:`decide`)."""
        return tuple(str(c) for c, n in zip(self.classes_, self.support_, strict=True) if n < RARE_SUPPORT)

    # -- fitting ---------------------------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        sample_weight: Sequence[float] | None = None,
        calibration_folds: Any = None,
    ) -> LinearTextModel:
        """Learn the vocabularies, then the classifier (and its calibration) on ``texts``."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        y = np.array([str(label) for label in labels])
        if len(set(y)) < 2:
            raise ClassifierError(f"needs at least two classes, got {sorted(set(y))}")
        batch = Featurizer(texts)
        self.fitted_ = [FittedBlock.fit(block, batch) for block in self.blocks]
        x = self._matrix(batch)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        base: Any
        if self.classifier == "svm":
            base = LinearSVC(C=self.C, class_weight=self.class_weight)
        else:
            base = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        if self.calibrate:
            cv = calibration_folds if calibration_folds is not None else self.calibrate
            model = CalibratedClassifierCV(base, method="sigmoid", cv=cv, ensemble=False)
            model.fit(x, y, sample_weight=weights)
            inner = model.calibrated_classifiers_[0]
            estimator = inner.estimator
            self.calibration_ = np.array([[c.a_, c.b_] for c in inner.calibrators], dtype=np.float64)
            self.link_ = "sigmoid"
        else:
            estimator = base.fit(x, y, sample_weight=weights)
            self.link_ = "logistic" if len(estimator.classes_) == 2 else "softmax"
        self.classes_ = np.array([str(c) for c in estimator.classes_])
        self.support_ = np.array([int((y == c).sum()) for c in self.classes_], dtype=np.int64)
        self.coef_ = np.ascontiguousarray(estimator.coef_.T, dtype=np.float32)  # features x outputs
        self.intercept_ = np.asarray(estimator.intercept_, dtype=np.float64)
        if self.phrases and len(self.classes_) == 2:
            self._keep_phrases(batch)
        return self

    def _keep_phrases(self, batch: Featurizer) -> None:
        """The strings of the ``phrases`` n-grams with the largest positive weights."""
        weights = self.coef_[:, 0]
        # Four candidates per phrase kept: single characters say nothing to a reader and are dropped.
        top = np.argsort(-weights)[: self.phrases * 4]
        top = top[weights[top] > 0]
        wanted: dict[tuple[int, int], int] = {}  # (block, column) -> model column
        offsets = np.cumsum([0] + [len(f.hashes) for f in self.fitted_])
        for column in top:
            b = int(np.searchsorted(offsets, column, side="right") - 1)
            wanted[(b, int(column - offsets[b]))] = int(column)
        found: dict[int, str] = {}
        for b, fitted in enumerate(self.fitted_):
            columns = {c for (bb, c) in wanted if bb == b}
            if not columns:
                continue
            targets = {int(fitted.hashes[c]): c for c in columns}
            block = fitted.block
            if block.unit == "cue":
                continue
            units: list[list[str]] = (
                [list(t) for t in batch.region(block.region, block.span)]
                if block.unit == "char"
                else batch.tokens(block.region, block.span)
            )
            for n in range(block.ngram[0], block.ngram[1] + 1):
                grams = sorted({"\x1f".join(u[i : i + n]) for u in units for i in range(len(u) - n + 1)})
                pieces = [g.split("\x1f") for g in grams]
                if block.unit == "char":
                    _, hashes = char_ngram_hashes(["".join(p) for p in pieces], (n, n))
                else:
                    _, hashes = word_ngram_hashes(pieces, (n, n))
                for gram, h in zip(grams, hashes.tolist(), strict=True):
                    if h in targets:
                        found[wanted[(b, targets.pop(h))]] = gram.replace("\x1f", "")
        # Phrases a duty officer can read: two characters or more, letters and digits only, and not a
        # pronoun or adverb that says nothing by itself (我们, 已经).
        readable = sorted(
            (c for c in found if len(found[c]) >= 2 and found[c].isalnum() and found[c] not in FILLER),
            key=lambda c: -weights[c],
        )
        columns_kept = np.array(sorted(readable[: self.phrases]), dtype=np.int64)
        self.phrase_columns_ = columns_kept
        self.phrase_text_ = np.array([found[int(c)] for c in columns_kept], dtype=str)

    # -- prediction ------------------------------------------------------------------------------

    def _matrix(self, batch: Featurizer) -> sparse.csr_matrix:
        # Kept on the batch: explaining a prediction reads the same rows again.
        key = id(self)
        if key not in batch.matrices:
            parts = [fitted.matrix(batch) for fitted in self.fitted_]
            batch.matrices[key] = parts[0] if len(parts) == 1 else sparse.hstack(parts, format="csr")
        return batch.matrices[key]

    def decision_function(self, texts: Sequence[str] | Featurizer) -> npt.NDArray[np.float64]:
        """The linear scores (one column per output), before the link."""
        batch = texts if isinstance(texts, Featurizer) else Featurizer(texts)
        return np.asarray(self._matrix(batch) @ self.coef_, dtype=np.float64) + self.intercept_

    def predict_proba(self, texts: Sequence[str] | Featurizer) -> npt.NDArray[np.float64]:
        """Class probabilities, columns in the order of ``classes_``."""
        if not self.fitted_:
            raise ClassifierError("LinearTextModel: fit() before predict")
        d = self.decision_function(texts)
        if self.link_ == "softmax":
            d -= d.max(axis=1, keepdims=True)
            e = np.exp(d)
            return np.asarray(e / e.sum(axis=1, keepdims=True))
        if self.link_ == "logistic":  # binary: one column for classes_[1]
            p = expit(d[:, 0])
            return np.column_stack([1 - p, p])
        p = expit(-(self.calibration_[:, 0] * d + self.calibration_[:, 1]))
        if len(self.classes_) == 2:
            return np.column_stack([1 - p[:, 0], p[:, 0]])
        total = p.sum(axis=1, keepdims=True)
        uniform = np.full_like(p, 1 / len(self.classes_))
        return np.asarray(np.divide(p, total, out=uniform, where=total != 0))

    def predict(self, texts: Sequence[str] | Featurizer) -> npt.NDArray[np.str_]:
        """The chosen class of each text (:func:`decide`)."""
        return np.asarray(self.classes_[decide(self.predict_proba(texts), self.classes_, self.rare_classes)])

    def explain(self, batch: Featurizer, rows: Sequence[int], top: int = 3) -> list[list[str]]:
        """For each of ``rows``, up to ``top`` kept phrases that pushed it towards the positive class."""
        if not len(self.phrase_columns_) or not len(rows):
            return [[] for _ in rows]
        x = self._matrix(batch)[list(rows)][:, self.phrase_columns_].toarray()
        contributions = x * self.coef_[self.phrase_columns_, 0]
        out: list[list[str]] = []
        for row in contributions:
            order = [i for i in np.argsort(-row)[: top * 3] if row[i] > 0]
            chosen: list[str] = []
            for i in order:  # a phrase inside one already chosen adds nothing to read
                text = str(self.phrase_text_[i])
                if not any(text in c or c in text for c in chosen):
                    chosen.append(text)
                if len(chosen) == top:
                    break
            out.append(chosen)
        return out

    # -- storage ---------------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
        """The fitted model as named arrays and a JSON-able spec (no pickle)."""
        arrays: dict[str, npt.NDArray[Any]] = {
            "classes": self.classes_.astype(str),
            "coef": self.coef_,
            "intercept": self.intercept_,
            "calibration": self.calibration_,
            "phrase_columns": self.phrase_columns_,
            "phrase_text": self.phrase_text_.astype(str),
            "support": self.support_,
        }
        for i, fitted in enumerate(self.fitted_):
            arrays[f"block{i}.hashes"] = fitted.hashes
            arrays[f"block{i}.idf"] = fitted.idf
        spec = {
            "blocks": [b.to_json() for b in self.blocks],
            "classifier": self.classifier,
            "C": self.C,
            "class_weight": self.class_weight,
            "calibrate": self.calibrate,
            "phrases": self.phrases,
            "link": self.link_,
        }
        return arrays, spec

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]], spec: dict[str, Any]) -> LinearTextModel:
        """The model :meth:`to_arrays` wrote; a clear error where a piece is missing or malformed."""
        try:
            blocks = [Block.from_json(b) for b in spec["blocks"]]
            model = cls(
                blocks=blocks,
                classifier=spec["classifier"],
                C=float(spec["C"]),
                class_weight=spec["class_weight"],
                calibrate=int(spec["calibrate"]),
                phrases=int(spec["phrases"]),
            )
            if spec["link"] not in LINKS:
                raise ClassifierError(f"unknown link {spec['link']!r}")
            model.link_ = spec["link"]
            model.classes_ = arrays["classes"].astype(str)
            model.coef_ = arrays["coef"].astype(np.float32, copy=False)
            model.intercept_ = arrays["intercept"].astype(np.float64, copy=False)
            model.calibration_ = arrays["calibration"].astype(np.float64, copy=False)
            model.phrase_columns_ = arrays["phrase_columns"].astype(np.int64, copy=False)
            model.phrase_text_ = arrays["phrase_text"].astype(str)
            model.support_ = arrays["support"].astype(np.int64, copy=False)
            model.fitted_ = [
                FittedBlock(
                    b, arrays[f"block{i}.hashes"].astype(np.uint64, copy=False), arrays[f"block{i}.idf"]
                )
                for i, b in enumerate(blocks)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise ClassifierError(f"malformed linear-text model: {exc}") from exc
        width = sum(len(f.hashes) for f in model.fitted_)
        if model.coef_.shape[0] != width or any(len(f.idf) != len(f.hashes) for f in model.fitted_):
            raise ClassifierError("malformed linear-text model: arrays of different lengths")
        return model

    @property
    def size_mb(self) -> float:
        """Megabytes of arrays (what the model costs on disk and in memory)."""
        arrays, _ = self.to_arrays()
        return sum(a.nbytes for a in arrays.values()) / 1e6


# Texts vectorised at a time when no shared batch is given: the n-gram temporaries of a thousand
# posts peaked at ~45 MB, of 250 at ~19 MB. The enrichment itself works in chunks of this size.
PREDICT_CHUNK = 250


def model_probabilities(model: Any, texts: Sequence[str], batch: Featurizer | None = None) -> Any:
    """``predict_proba`` of ``texts``: an n-gram model reads the shared ``batch`` (its cached n-gram
    hashes) where given; otherwise the texts are read ``PREDICT_CHUNK`` at a time."""
    if batch is not None and isinstance(model, LinearTextModel):
        return model.predict_proba(batch)
    parts = [
        model.predict_proba(list(texts[i : i + PREDICT_CHUNK])) for i in range(0, len(texts), PREDICT_CHUNK)
    ]
    return np.concatenate(parts)


def decide(
    probabilities: npt.NDArray[np.float64],
    classes: Sequence[str] | npt.NDArray[Any],
    rare: Sequence[str] = (),
) -> npt.NDArray[np.int64]:
    """The column chosen for each row: the most likely class, a rare one only from RARE_MIN_PROBABILITY."""
    p = np.array(probabilities, dtype=np.float64)
    names = [str(c) for c in classes]
    for name in rare:
        if name in names and len(names) > 1:
            column = names.index(name)
            p[:, column] = np.where(p[:, column] >= RARE_MIN_PROBABILITY, p[:, column], -1.0)
    return np.asarray(p.argmax(1), dtype=np.int64)
