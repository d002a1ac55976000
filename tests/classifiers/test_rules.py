"""Taxonomy, keyword topic, appeal type, risk and event ids on small examples of our own."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.appeal import appeal_type
from classifiers.errors import TaxonomyError
from classifiers.events import event_id
from classifiers.risk import risk_score
from classifiers.taxonomy import load_taxonomy, parse_taxonomy
from classifiers.topic import OUT_OF_REMIT, keyword_topic
from core.messages import Label


def test_the_shipped_taxonomy_loads_with_a_unit_for_every_topic() -> None:
    taxonomy = load_taxonomy()
    assert len(taxonomy.topics) >= 5
    assert all(topic.unit and topic.keywords for topic in taxonomy.topics)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "non-empty `topics`"),
        ({"topics": [{"label": "甲", "keywords": ["a"]}]}, r"topic #1 \(甲\): `unit`"),
        ({"topics": [{"label": "甲", "unit": "u", "keywords": "a"}]}, "`keywords` must be a list"),
        ({"topics": [{"label": "甲", "unit": "u"}, {"label": "甲", "unit": "v"}]}, "unique"),
    ],
)
def test_an_invalid_taxonomy_names_the_topic_and_field(data: object, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        parse_taxonomy(data)


def test_an_unreadable_taxonomy_file_is_a_taxonomy_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("topics: [unclosed", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(bad)


def test_keywords_pick_the_topic_and_its_unit() -> None:
    topic = keyword_topic(load_taxonomy(), "公司拖欠工资", "老板拖欠我们三个月工资，社保也没交")
    assert topic["label"] == "劳动保障" and topic["in_remit"]
    assert topic["unit"] == "区人力资源和社会保障局"
    assert 0.5 < topic["score"] <= 1


def test_a_post_without_remit_keywords_is_out_of_remit() -> None:
    topic = keyword_topic(load_taxonomy(), "今天天气不错", "周末去爬山，风景很美")
    assert topic == {"label": OUT_OF_REMIT, "score": 0.0, "in_remit": False, "unit": None}


@pytest.mark.parametrize(
    ("source", "title", "text", "declared", "expected"),
    [
        ("hotline", "", "随便说说", "求助", "求助"),
        ("board", "举报餐馆偷排污水", "夜里偷排", None, "举报"),
        ("board", "噪音扰民", "工地夜间施工扰民", None, "投诉"),
        ("board", "请问社保卡如何办理", "", None, "咨询"),
        ("board", "感谢社区", "为社区工作人员点赞", None, "表扬"),
        ("weibo", "", "拖欠工资", None, None),
    ],
)
def test_appeal_type_follows_the_declared_type_or_cue_words(
    source: str, title: str, text: str, declared: str | None, expected: str | None
) -> None:
    assert appeal_type(source, title, text, declared) == expected


def test_risk_adds_negativity_sensitive_terms_and_reach_with_reasons() -> None:
    calm = risk_score(Label(label="positive", score=0.9), "感谢", "路灯修好了", None, None)
    assert calm == {"score": 0, "reasons": []}
    hot = risk_score(
        Label(label="negative", score=0.95),
        "工人讨薪",
        "上百人欠薪维权，有人上访",
        {"reposts": 5000},
        200_000,
    )
    assert hot["score"] >= 80
    assert any("欠薪" in reason and "上访" in reason for reason in hot["reasons"])
    assert any(reason.startswith("传播量") for reason in hot["reasons"])
    assert hot["score"] <= 100


def test_copies_of_one_story_share_an_event_and_others_do_not() -> None:
    original = "某小区电梯困人两小时，物业迟迟不到场"
    repost = "//@热心市民: 某小区电梯困人两小时！物业迟迟不到场 http://t.cn/abc"
    assert event_id("", original) == event_id("", repost)
    assert event_id("", original) != event_id("", "某小区停水三天，无人通知")


def test_fast_spreading_posts_and_heating_events_add_velocity_reasons() -> None:
    from datetime import datetime, timedelta

    from classifiers.risk import engagement_per_hour

    published = datetime(2024, 5, 1, 8, 0)
    speed = engagement_per_hour({"reposts": 300, "comments": 100}, published, published + timedelta(hours=2))
    assert speed == 200
    slow = risk_score(Label(label="neutral", score=0.5), "", "路灯坏了", None, None)
    fast = risk_score(
        Label(label="neutral", score=0.5),
        "",
        "路灯坏了",
        None,
        None,
        engagement_per_hour=speed,
        event_last_hour=8,
    )
    assert 10 <= fast["score"] - slow["score"] <= 20
    assert fast["reasons"] == ["传播速度：每小时约200次转发评论", "事件升温：1小时内8条相似帖文"]


def test_the_risk_lexicon_is_configured_in_the_taxonomy() -> None:
    taxonomy = parse_taxonomy({"topics": [{"label": "甲", "unit": "u"}], "sensitive_terms": ["停电"]})
    assert taxonomy.sensitive_terms == ("停电",)
    assert "上访" in load_taxonomy().sensitive_terms
