"""Versioned model artifacts: a directory holding the model's arrays, its spec and its card.

A model is stored as named numpy arrays (``model.npz``, read with ``allow_pickle=False``) and a JSON
spec (``model.json``): nothing in a model directory can run code when it is loaded, whoever could
write there. The card records the storage format, the library versions and the training data's
hash; loading refuses a model of another format or numpy major version, a directory outside the
trusted root, and an artifact whose bytes differ from the card's SHA-256, each with an error that
names the command that rebuilds it. Models saved as pickles by earlier versions are refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import zipfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifiers.errors import ClassifierError, ModelNotFound, UntrustedModelPath

ARTIFACT = "model.npz"
SPEC = "model.json"
CARD = "card.json"
LEGACY_ARTIFACT = "model.pkl"
# Bumped whenever the arrays or the spec of any model kind change meaning.
FORMAT = "yuqing-arrays/1"
REBUILD = "`yuqing models build --force` (a trained model: `yuqing classify train … --out DIR` again)"
Arrays = dict[str, npt.NDArray[Any]]


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
    format: str = ""
    libraries: dict[str, str] = field(default_factory=dict)
    licence: str = ""

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


def library_versions() -> dict[str, str]:
    """The versions that wrote a model (numpy's major version must match to load it)."""
    import sklearn

    return {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__}


def _kinds() -> dict[str, Any]:
    """The model classes a spec may name: an allow-list, nothing else is ever constructed."""
    from classifiers.encoder import EncoderClassifier
    from classifiers.ensemble import AveragedClassifier
    from classifiers.linear import LinearTextModel

    return {cls.kind: cls for cls in (LinearTextModel, EncoderClassifier, AveragedClassifier)}


def encode_model(model: Any) -> tuple[Arrays, dict[str, Any]]:
    """A model of an allowed kind as (arrays, spec); members of an average are prefixed ``m<i>/``."""
    kind = getattr(model, "kind", None)
    if kind not in _kinds():
        raise ClassifierError(f"cannot store a {type(model).__name__}: not one of {sorted(_kinds())}")
    if kind == "averaged":
        arrays: Arrays = {}
        members = []
        for i, member in enumerate(model.members):
            member_arrays, member_spec = encode_model(member)
            arrays.update({f"m{i}/{k}": v for k, v in member_arrays.items()})
            members.append(member_spec)
        return arrays, {"kind": kind, "members": members}
    arrays, spec = model.to_arrays()
    return arrays, {"kind": kind, **spec}


def decode_model(arrays: Arrays, spec: dict[str, Any]) -> Any:
    """The model :func:`encode_model` wrote."""
    kinds = _kinds()
    kind = spec.get("kind")
    if kind not in kinds:
        raise ClassifierError(f"unknown model kind {kind!r}: not one of {sorted(kinds)}")
    if kind == "averaged":
        members = []
        for i, member_spec in enumerate(spec["members"]):
            prefix = f"m{i}/"
            members.append(
                decode_model(
                    {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}, member_spec
                )
            )
        return kinds[kind].from_members(members)
    return kinds[kind].from_arrays(arrays, {k: v for k, v in spec.items() if k != "kind"})


def _artifact_bytes(model: Any) -> tuple[bytes, bytes]:
    arrays, spec = encode_model(model)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue(), json.dumps(spec, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _sha256(npz: bytes, spec: bytes) -> str:
    return hashlib.sha256(hashlib.sha256(npz).digest() + hashlib.sha256(spec).digest()).hexdigest()


def save_model(model: Any, card: ModelCard, directory: Path) -> ModelCard:
    """Write the arrays, the spec and the card (with the artifact's hash) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    npz, spec = _artifact_bytes(model)
    sealed = ModelCard(
        **{
            **asdict(card),
            "artifact_sha256": _sha256(npz, spec),
            "format": FORMAT,
            "libraries": library_versions(),
            "licence": card.licence or getattr(model, "licence", ""),
        }
    )
    for name, blob in ((ARTIFACT, npz), (SPEC, spec)):
        tmp = directory / (name + ".tmp")
        tmp.write_bytes(blob)
        tmp.replace(directory / name)
    (directory / LEGACY_ARTIFACT).unlink(missing_ok=True)
    (directory / CARD).write_text(json.dumps(asdict(sealed), ensure_ascii=False, indent=2), encoding="utf-8")
    return sealed


def read_card(directory: Path) -> ModelCard:
    """The card of the model in ``directory``."""
    path = directory / CARD
    if not path.exists():
        raise ModelNotFound(str(directory))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(ModelCard)}
        return ModelCard(**{k: v for k, v in data.items() if k in known})
    except (ValueError, TypeError) as exc:
        raise ClassifierError(f"model card {path} is unreadable ({exc}); rebuild it: {REBUILD}") from exc


def check_compatible(card: ModelCard, where: Path) -> None:
    """Refuse a model of another storage format or numpy major version, naming the rebuild command."""
    if card.format != FORMAT:
        found = card.format or "a pickle (no longer loaded: it could run code)"
        raise ClassifierError(
            f"model at {where} is stored as {found}, this version reads {FORMAT}; rebuild it: {REBUILD}"
        )
    ours = np.__version__.split(".")[0]
    theirs = str(card.libraries.get("numpy", "")).split(".")[0]
    if theirs != ours:
        raise ClassifierError(
            f"model at {where} was written with numpy {card.libraries.get('numpy')}, "
            f"this is {np.__version__}; rebuild it: {REBUILD}"
        )


def load_model(directory: Path, *, root: Path) -> tuple[Any, ModelCard]:
    """Load a model from ``directory``, which must lie inside ``root`` and match its card."""
    resolved, trusted = directory.resolve(), root.resolve()
    if not resolved.is_relative_to(trusted):
        raise UntrustedModelPath(f"refusing to load a model from {resolved}: outside {trusted}")
    card = read_card(resolved)
    check_compatible(card, resolved)
    try:
        npz, spec = (resolved / ARTIFACT).read_bytes(), (resolved / SPEC).read_bytes()
    except OSError as exc:
        raise ClassifierError(f"model at {resolved} is incomplete ({exc}); rebuild it: {REBUILD}") from exc
    if _sha256(npz, spec) != card.artifact_sha256:
        raise ClassifierError(f"model at {resolved} does not match its card's hash; rebuild it: {REBUILD}")
    try:
        with np.load(io.BytesIO(npz), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        model = decode_model(arrays, json.loads(spec))
    except (ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ClassifierError(f"model at {resolved} is malformed ({exc}); rebuild it: {REBUILD}") from exc
    return model, card


def artifact_size(directory: Path) -> int:
    """Bytes of a stored model on disk (arrays and spec)."""
    return sum((directory / name).stat().st_size for name in (ARTIFACT, SPEC) if (directory / name).exists())
