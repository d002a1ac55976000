"""Fine-tuning the pretrained encoder on labelled texts, with torch (imported only to train).

:class:`TrainableEncoder` is the estimator the training recipes name: an
:class:`~classifiers.encoder.EncoderClassifier` with ``fit``. What it fits is stored and loaded back as a
plain ``EncoderClassifier``, so applying a model needs neither this module nor torch.

The recipe is the usual one for a small BERT: mean-pooled last layer into a new linear head, AdamW
(learning rate 5e-5, weight decay 0.01), linear warm-up over the first 6 % of steps then linear
decay, dropout 0.1, gradient norm clipped to 1, three epochs. The forward pass mirrors
:func:`classifiers.encoder.encode` (tested equal), so the weights it returns run in numpy.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.encoder import (
    EncoderClassifier,
    EncoderConfig,
    EncoderUnavailable,
    Weights,
    base_encoder_dir,
    load_base_config,
    load_tokenizer,
    padded,
    reading_length,
    text_windows,
)
from classifiers.errors import ClassifierError

log = logging.getLogger(__name__)
DROPOUT = 0.1
WEIGHT_DECAY = 0.01
WARMUP = 0.06
LOG_EVERY = 50


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise EncoderUnavailable(
            "微调编码器需要 torch：pip install torch==2.13.0（make venv 会安装）"
        ) from exc
    return torch


def base_state(directory: Path, *, pinned: bool) -> tuple[EncoderConfig, str, dict[str, Any]]:
    """The base encoder's shape, tokenizer JSON and weights (torch tensors, encoder part only).

    ``pinned``: check the files against m3e-small's pinned hashes (the installed package); a base
    directory named explicitly (tests, a department's own) is its caller's to trust. Loading with
    ``weights_only`` never runs code from the file either way.
    """
    torch = _torch()
    config, tokenizer_json = load_base_config(directory, pinned=pinned)
    state = torch.load(directory / "pytorch_model.bin", map_location="cpu", weights_only=True)
    tensors = {
        name.removeprefix("bert."): tensor.float()
        for name, tensor in state.items()
        if name.removeprefix("bert.").startswith(("embeddings.", "encoder."))
        and not name.endswith("position_ids")
    }
    return config, tokenizer_json, tensors


def forward(params: dict[str, Any], config: EncoderConfig, ids: Any, mask: Any, *, training: bool) -> Any:
    """Mean-pooled last hidden states, in torch; dropout where BERT has it when ``training``."""
    torch = _torch()
    functional = torch.nn.functional
    p = params
    batch, length = ids.shape
    heads, size, hidden = config.heads, config.hidden // config.heads, config.hidden

    def drop(x: Any) -> Any:
        return functional.dropout(x, DROPOUT, training)

    def linear(x: Any, name: str) -> Any:
        return functional.linear(x, p[name + ".weight"], p[name + ".bias"])

    def norm(x: Any, name: str) -> Any:
        return functional.layer_norm(x, (hidden,), p[name + ".weight"], p[name + ".bias"], config.eps)

    def split(x: Any) -> Any:
        return x.view(batch, length, heads, size).transpose(1, 2)

    h = (
        p["embeddings.word_embeddings.weight"][ids]
        + p["embeddings.position_embeddings.weight"][:length]
        + p["embeddings.token_type_embeddings.weight"][0]
    )
    h = drop(norm(h, "embeddings.LayerNorm"))
    blocked = (1.0 - mask[:, None, None, :].float()) * -1e9
    for layer in range(config.layers):
        prefix = f"encoder.layer.{layer}."
        q = split(linear(h, prefix + "attention.self.query"))
        k = split(linear(h, prefix + "attention.self.key"))
        v = split(linear(h, prefix + "attention.self.value"))
        probs = drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(size) + blocked, -1))
        context = (probs @ v).transpose(1, 2).reshape(batch, length, hidden)
        h = norm(
            h + drop(linear(context, prefix + "attention.output.dense")),
            prefix + "attention.output.LayerNorm",
        )
        inner = functional.gelu(linear(h, prefix + "intermediate.dense"))
        h = norm(h + drop(linear(inner, prefix + "output.dense")), prefix + "output.LayerNorm")
    weight = mask[:, :, None].float()
    return (h * weight).sum(1) / weight.sum(1).clamp(min=1.0)


def to_numpy(params: dict[str, Any]) -> Weights:
    """Weights for :func:`classifiers.encoder.encode`: linear layers as contiguous (in, out) kernels."""
    out: Weights = {}
    for name, tensor in params.items():
        array = tensor.detach().cpu().numpy().astype(np.float32)
        if name.endswith(".weight") and array.ndim == 2 and "embeddings" not in name:
            out[name.removesuffix(".weight") + ".kernel"] = np.ascontiguousarray(array.T)
        else:
            out[name] = np.ascontiguousarray(array)
    return out


def fine_tune(
    base: Path,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    max_tokens: int,
    seed: int,
    windows: int = 1,
    pinned: bool = True,
) -> tuple[EncoderConfig, str, Weights, list[str]]:
    """(config, tokenizer JSON, numpy weights with ``head.*``, classes) of the fine-tuned encoder."""
    torch = _torch()
    torch.manual_seed(seed)
    order = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    config, tokenizer_json, tensors = base_state(base, pinned=pinned)
    if not 3 <= max_tokens <= config.max_positions:
        raise ClassifierError(
            f"max_tokens must be 3..{config.max_positions} for this encoder, got {max_tokens}"
        )
    classes = sorted(set(labels))
    index = {label: i for i, label in enumerate(classes)}
    params = {name: torch.nn.Parameter(tensor.clone()) for name, tensor in tensors.items()}
    head = torch.empty(len(classes), config.hidden)
    torch.nn.init.normal_(head, std=0.02)
    params["head.weight"] = torch.nn.Parameter(head)
    params["head.bias"] = torch.nn.Parameter(torch.zeros(len(classes)))

    tokenizer = load_tokenizer(tokenizer_json, reading_length(max_tokens, windows))
    per_text = text_windows(tokenizer, texts, max_tokens)
    targets = [index[label] for label in labels]
    steps = epochs * math.ceil(len(per_text) / batch_size)
    optimiser = torch.optim.AdamW(list(params.values()), lr=learning_rate, weight_decay=WEIGHT_DECAY)
    warmup = max(1.0, WARMUP * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, step / warmup) * max(0.0, (steps - step) / steps)
    )
    started, step = time.monotonic(), 0
    for epoch in range(epochs):
        rows = list(range(len(per_text)))
        order.shuffle(rows)
        # One window of each text per epoch, drawn afresh: the head learns every part of a message.
        sequences = [w[0] if len(w) == 1 else order.choice(w) for w in per_text]
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            ids, mask = (torch.from_numpy(a) for a in padded([sequences[i] for i in batch]))
            pooled = torch.nn.functional.dropout(forward(params, config, ids, mask, training=True), DROPOUT)
            logits = torch.nn.functional.linear(pooled, params["head.weight"], params["head.bias"])
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor([targets[i] for i in batch]))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            if step % LOG_EVERY == 0 or step == steps:
                log.info(
                    "fine-tuning epoch %d/%d step %d/%d loss %.3f (%.0f s)",
                    epoch + 1,
                    epochs,
                    step,
                    steps,
                    loss.item(),
                    time.monotonic() - started,
                )
    return config, tokenizer_json, to_numpy(params), classes


class TrainableEncoder(EncoderClassifier):
    """The encoder classifier with ``fit``: fine-tunes the base encoder and a new head (needs torch)."""

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TrainableEncoder:
        """Fine-tune the base encoder and a new head on ``texts``."""
        base = Path(self.base_dir) if self.base_dir else base_encoder_dir()
        result = fine_tune(
            base,
            list(texts),
            [str(label) for label in labels],
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            max_tokens=self.max_tokens,
            windows=self.windows,
            seed=self.seed,
            pinned=self.base_dir is None,
        )
        self.config_, self.tokenizer_json_, self.weights_, classes = result
        self.classes_ = np.array(classes)
        self._tokenizer = None
        return self
