"""Versioned model artifacts: a directory holding the pickled Pipeline and its card.

Pickles execute code when loaded, so a model is only ever loaded from the project's own model
directory and only when its bytes match the SHA-256 recorded in its card at save time.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from classifiers.errors import ClassifierError, ModelNotFound, UntrustedModelPath

ARTIFACT = "model.pkl"
CARD = "card.json"


@dataclass(frozen=True)
class ModelCard:
    """What a model is, what it was trained on and how well it did."""

    name: str
    version: str
    task: str
    trained_at: str
    data_sha256: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    artifact_sha256: str = ""

    @property
    def ref(self) -> str:
        """``name@version``, as recorded in every enriched post's ``models``."""
        return f"{self.name}@{self.version}"


def data_hash(texts: list[str], labels: list[str]) -> str:
    """A stable SHA-256 of a training set, for the card."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode("utf-8"))
        digest.update(b"\x1f")
        digest.update(label.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def save_model(model: Any, card: ModelCard, directory: Path) -> ModelCard:
    """Write the artifact and its card (with the artifact's hash) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    sealed = ModelCard(**{**asdict(card), "artifact_sha256": hashlib.sha256(blob).hexdigest()})
    tmp = directory / (ARTIFACT + ".tmp")
    tmp.write_bytes(blob)
    tmp.replace(directory / ARTIFACT)
    (directory / CARD).write_text(json.dumps(asdict(sealed), ensure_ascii=False, indent=2), encoding="utf-8")
    return sealed


def read_card(directory: Path) -> ModelCard:
    """The card of the model in ``directory``."""
    path = directory / CARD
    if not path.exists():
        raise ModelNotFound(str(directory))
    return ModelCard(**json.loads(path.read_text(encoding="utf-8")))


def load_model(directory: Path, *, root: Path) -> tuple[Any, ModelCard]:
    """Load a model from ``directory``, which must lie inside ``root`` and match its card's hash."""
    resolved, trusted = directory.resolve(), root.resolve()
    if not resolved.is_relative_to(trusted):
        raise UntrustedModelPath(f"refusing to load a model from {resolved}: outside {trusted}")
    card = read_card(resolved)
    blob = (resolved / ARTIFACT).read_bytes()
    if hashlib.sha256(blob).hexdigest() != card.artifact_sha256:
        raise ClassifierError(f"model at {resolved} does not match its card's hash; rebuild it")
    return pickle.loads(blob), card  # noqa: S301 - our own artifact, path and hash checked above
