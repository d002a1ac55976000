"""The default models: built from what the project ships, loaded only from our own directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifiers.enrich import Enricher
from classifiers.errors import ClassifierError, ModelNotFound, UntrustedModelPath
from classifiers.sentiment import labels_from_probabilities, predict_sentiment
from classifiers.store import ARTIFACT, load_model, read_card
from tests.stream.samples import raw_post


def test_the_built_sentiment_model_has_a_card_with_its_data_hash(models_dir: Path) -> None:
    card = read_card(models_dir / "sentiment")
    assert card.task == "sentiment" and len(card.data_sha256) == 64 and card.artifact_sha256
    assert card.params["seed_rows"] >= 40 and card.params["packaged_rows"] > 30_000


def test_sentiment_separates_clear_complaints_from_clear_praise(models_dir: Path) -> None:
    model, _ = load_model(models_dir / "sentiment", root=models_dir)
    labels = predict_sentiment(
        model,
        [
            "垃圾堆了一个星期没人清理，臭气熏天，投诉了也没用，太失望了",
            "社区工作人员服务热情周到，问题当天就解决了，非常满意，点赞",
        ],
    )
    assert [label["label"] for label in labels] == ["negative", "positive"]


def test_probabilities_map_to_three_labels_with_a_neutral_band() -> None:
    assert [x["label"] for x in labels_from_probabilities([0.1, 0.5, 0.9])] == [
        "negative",
        "neutral",
        "positive",
    ]


def test_a_model_outside_the_project_directory_is_refused(models_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(models_dir / "sentiment", elsewhere)
    with pytest.raises(UntrustedModelPath):
        load_model(elsewhere, root=models_dir)


def test_a_tampered_artifact_is_refused(models_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    with (root / "sentiment" / ARTIFACT).open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ClassifierError, match="does not match"):
        load_model(root / "sentiment", root=root)


def test_a_missing_model_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="yuqing models build"):
        Enricher.load(tmp_path)


def test_enrichment_adds_every_enriched_field(models_dir: Path) -> None:
    enricher = Enricher.load(models_dir)
    post = raw_post(1, text="公司拖欠工资三个月，工友们准备集体上访")
    [enriched] = enricher.enrich_many([post])
    assert enriched["id"] == post["id"] and enriched["text"] == post["text"]
    assert enriched["sentiment"]["label"] == "negative"
    assert enriched["topic"]["label"] == "劳动保障"
    assert enriched["appeal_type"] == "投诉"
    assert 0 <= enriched["risk"]["score"] <= 100
    assert any(r.startswith("敏感词") and "上访" in r for r in enriched["risk"]["reasons"])
    assert enriched["event_id"].startswith("ev-")
    # A board letter: read by the letter models that `models build` trained on our seed letters.
    assert enriched["models"]["sentiment_letter"] == "sentiment-letter-ngram@2"
    assert enriched["models"]["topic"] == "keyword-topic@1"  # no labelled data: the taxonomy's keywords
    assert enriched["models"]["appeal"] == "rules@3"  # and the cue rules
    assert enriched["models"]["urgency"] == "urgency-letter-ngram@2"
    assert enriched["risk"]["reasons"][0].startswith("紧急程度")


def test_a_trained_topic_model_in_the_models_directory_is_loaded(models_dir: Path, tmp_path: Path) -> None:
    from classifiers.store import save_model
    from classifiers.training import train
    from tests.classifiers.test_training import TOPICS

    root = tmp_path / "models"
    shutil.copytree(models_dir, root)
    rows = [(text, label) for label, texts in TOPICS.items() for text in texts]
    model, card = train("topic", [t for t, _ in rows], [label for _, label in rows])
    save_model(model, card, root / "topic")
    enricher = Enricher.load(root)
    [enriched] = enricher.enrich_many([raw_post(2, text="老板拖欠工资三个月，社保也不交")])
    assert enriched["models"]["topic"] == "topic-word-char-svm@2"
    assert enriched["topic"]["label"] == "劳动保障"


def test_copies_of_a_story_in_a_stream_share_one_event_and_raise_its_risk(models_dir: Path) -> None:
    enricher = Enricher.load(models_dir)
    story = "化工厂发生爆炸，附近居民听到巨响，现场浓烟滚滚，已有多人受伤送医"
    posts = [raw_post(10 + n, text=f"//@网友{n}: {story}") for n in range(6)]
    enriched = enricher.enrich_many(posts)
    assert len({e["event_id"] for e in enriched}) == 1
    event = enricher.events.event(enriched[0]["event_id"])
    assert event is not None and event.count == 6 and event.representative_id == posts[0]["id"]
    assert enriched[-1]["risk"]["score"] > enriched[0]["risk"]["score"]
    assert any(reason.startswith("事件升温") for reason in enriched[-1]["risk"]["reasons"])


def test_the_event_memory_setting_bounds_what_the_enricher_remembers(models_dir: Path) -> None:
    from yuqing.settings import Settings

    settings = Settings.from_env({"YUQING_EVENT_MEMORY": "3"})
    enricher = Enricher.load(models_dir, event_memory=settings.event_memory)
    posts = [raw_post(n, text=f"第{n}条完全不同的投诉内容，编号{n * 7919}号小区") for n in range(5)]
    enricher.enrich_many(posts)
    assert enricher.events.capacity == 3 and len(enricher.events) == 3
