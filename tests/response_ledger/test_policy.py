"""The shipped policy loads, and a broken one names what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from response_ledger.deadlines import Rule
from response_ledger.errors import RuleError
from response_ledger.policy import load_policy, parse_policy


def test_the_shipped_policy_has_the_statutory_limits() -> None:
    policy = load_policy()
    assert policy.ticket_class("government-opinion").limits.respond == Rule.parse("hours:48")
    assert policy.ticket_class("major-incident").limits.respond == Rule.parse("hours:5")
    assert policy.ticket_class("disclosure").limits.close == Rule.parse("workdays:20")
    assert policy.ticket_class("disclosure").limits.max_extension == Rule.parse("workdays:20")
    assert policy.ticket_class("deputy-proposal").limits.close == Rule.parse("months:3")
    assert policy.due_soon_fraction == 0.75


def test_the_taxonomy_ticket_rules_name_classes_of_the_policy() -> None:
    from classifiers.taxonomy import load_taxonomy

    policy = load_policy()
    for topic in load_taxonomy().topics:
        policy.ticket_class(topic.ticket_rule)


@pytest.mark.parametrize(
    ("data", "fault"),
    [
        ({}, "policy"),
        ({"classes": {"x": {"respond": "hours:2"}}}, "x"),
        ({"classes": {"x": {"close": "weeks:2"}}}, "weeks:2"),
        ({"classes": {"x": {"close": "hours:2"}}, "intake": {"hotline_default_class": "nope"}}, "nope"),
    ],
)
def test_a_broken_policy_names_the_class_or_rule_at_fault(data: object, fault: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_policy(data)
    assert caught.value.rule == fault


def test_an_unreadable_policy_file_is_a_rule_error(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("classes: [unclosed", encoding="utf-8")
    with pytest.raises(RuleError):
        load_policy(path)


def test_the_praise_class_has_no_reply_limit_and_must_be_defined() -> None:
    from response_ledger.policy import parse_policy

    policy = load_policy()
    praise = policy.ticket_class(policy.intake.praise_class)
    assert praise.title == "表扬" and praise.limits.respond is None
    broken = {"classes": {"a": {"close": "days:1"}}, "intake": {
        "hotline_default_class": "a", "board_class": "a", "opinion_class": "a", "major_class": "a",
        "praise_class": "nope"}}  # fmt: skip
    with pytest.raises(RuleError, match="nope"):
        parse_policy(broken)


def test_the_unit_directory_of_the_policy_is_a_list_of_distinct_names() -> None:
    intake = {"hotline_default_class": "x", "board_class": "x", "opinion_class": "x", "major_class": "x"}
    base = {"classes": {"x": {"close": "hours:2"}}, "intake": intake}
    assert parse_policy({**base, "units": [" 区信访局 ", "区档案馆"]}).units == ("区信访局", "区档案馆")
    assert parse_policy(base).units == ()
    for bad in ("区信访局", ["区信访局", "区信访局"], ["", "区档案馆"], ["局" * 101]):
        with pytest.raises(RuleError):
            parse_policy({**base, "units": bad})
