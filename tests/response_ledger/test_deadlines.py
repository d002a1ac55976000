"""Deadline arithmetic: 民法典 201–203 day counting on the State Council calendar with 调休."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from response_ledger.calendar import HolidayEntry, WorkCalendar
from response_ledger.deadlines import Due, Pause, Rule, RuleKind, add_months, compute_due
from response_ledger.errors import RuleError
from response_ledger.model import Limits
from response_ledger.workflow import Action
from tests.response_ledger.samples import at, ticket

CAL = WorkCalendar()


def due(rule: str, start: str, calendar: WorkCalendar = CAL, **kwargs: object) -> Due | None:
    return compute_due(Rule.parse(rule), at(start), calendar, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "start", "expected"),
    [
        # 国庆 2026: Oct 1–7 off; the start day is not counted.
        ("workdays:3", "2026-09-29T10:00", "2026-10-09T23:59:59"),
        ("workdays:5", "2026-09-30T10:00", "2026-10-13T23:59:59"),  # Saturday Oct 10 is a 调休 working day
        # 春节 2026: Feb 15–23 off, Saturday Feb 14 worked.
        ("workdays:1", "2026-02-13T18:00", "2026-02-14T23:59:59"),
        ("workdays:5", "2026-02-12T10:00", "2026-02-26T23:59:59"),
        # Wall-clock hours run through nights and holidays.
        ("hours:2", "2026-03-01T23:30", "2026-03-02T01:30:00"),
        ("hours:5", "2026-10-01T22:00", "2026-10-02T03:00:00"),
        ("hours:48", "2026-09-30T20:00", "2026-10-02T20:00:00"),
        # Month ends: Jan 31 + 1 month is the last day of February (a 调休 Saturday in 2026).
        ("months:1", "2026-01-31T10:00", "2026-02-28T23:59:59"),
        ("months:1", "2025-01-31T10:00", "2025-02-28T23:59:59"),
        ("months:1", "2024-01-31T10:00", "2024-02-29T23:59:59"),
        # A last day on a holiday moves to the first working day after it (民法典 203).
        ("months:3", "2026-07-05T10:00", "2026-10-08T23:59:59"),
        ("days:10", "2026-09-24T10:00", "2026-10-08T23:59:59"),
    ],
)
def test_due_moments_follow_the_civil_code_on_the_state_council_calendar(
    rule: str, start: str, expected: str
) -> None:
    result = due(rule, start)
    assert result == Due(at(expected), provisional=False)


def test_a_deadline_in_2027_is_counted_on_weekends_only_and_marked_provisional() -> None:
    result = due("workdays:20", "2026-12-20T09:00")
    assert result == Due(at("2027-01-15T23:59:59"), provisional=True)
    assert str(result) == "2027-01-15T23:59:59+08:00 provisional"
    assert due("months:1", "2026-12-31T10:00") == Due(at("2027-02-01T23:59:59"), provisional=True)


def test_one_date_of_2027_counts_but_does_not_make_the_year_known() -> None:
    table = WorkCalendar([HolidayEntry(date(2027, 1, 1), is_workday=False, name="元旦")])
    assert due("workdays:20", "2026-12-20T09:00", table) == Due(at("2027-01-18T23:59:59"), provisional=True)
    assert not table.is_scheduled(date(2027, 6, 1))


def test_a_year_marked_complete_is_known_and_its_unlisted_days_are_ordinary() -> None:
    table = WorkCalendar(
        [HolidayEntry(date(2027, 1, 1), is_workday=False, name="元旦")], complete_years=[2027]
    )
    assert due("workdays:20", "2026-12-20T09:00", table) == Due(at("2027-01-18T23:59:59"), provisional=False)
    assert table.is_scheduled(date(2027, 6, 1)) and table.is_workday(date(2027, 6, 1))
    assert not table.is_workday(date(2027, 6, 5))  # a Saturday the table does not list


def test_a_single_day_changed_in_a_year_the_package_covers_keeps_the_rest_of_the_package() -> None:
    table = WorkCalendar([HolidayEntry(date(2026, 3, 2), is_workday=False, name="临时调整")])
    assert not table.is_workday(date(2026, 10, 1))  # 国庆 from the package, still
    assert table.is_workday(date(2026, 10, 10))  # the package's 调休 Saturday


def test_the_admin_table_overrides_the_package_for_a_single_day() -> None:
    table = WorkCalendar([HolidayEntry(date(2026, 3, 2), is_workday=False, name="临时调整")])
    assert due("workdays:1", "2026-03-01T10:00", table) == Due(at("2026-03-03T23:59:59"))


def test_a_deadline_inside_a_known_year_is_never_provisional() -> None:
    result = due("workdays:5", "2026-12-01T10:00")
    assert result is not None and not result.provisional


def test_a_closed_pause_of_working_days_pushes_a_working_day_limit_by_as_many_days() -> None:
    paused = due(
        "workdays:20", "2026-11-02T09:00", pauses=[Pause(at("2026-11-04T10:00"), at("2026-11-11T15:00"))]
    )
    # Nov 5, 6, 9, 10 and 11 did not count: five working days.
    assert paused == due("workdays:25", "2026-11-02T09:00")


def test_a_pause_stops_an_hour_limit_for_exactly_its_length() -> None:
    paused = due(
        "hours:48", "2026-11-02T09:00", pauses=[Pause(at("2026-11-02T21:00"), at("2026-11-03T00:30"))]
    )
    assert paused == Due(at("2026-11-04T12:30"))


def test_while_a_pause_lasts_there_is_no_due_moment() -> None:
    assert due("workdays:20", "2026-11-02T09:00", pauses=[Pause(at("2026-11-04T10:00"), None)]) is None


def test_extensions_of_the_same_kind_lengthen_the_limit() -> None:
    extended = due("workdays:20", "2026-09-01T09:00", extensions=[Rule.parse("workdays:20")])
    assert extended == due("workdays:40", "2026-09-01T09:00")
    assert due("months:3", "2026-02-28T09:00", extensions=[Rule.parse("months:3")]) == due(
        "months:6", "2026-02-28T09:00"
    )


def test_an_extension_of_another_kind_is_counted_on_from_the_due_moment() -> None:
    assert due("hours:48", "2026-09-28T09:00", extensions=[Rule.parse("workdays:1")]) == Due(
        at("2026-10-08T23:59:59")
    )


def test_pauses_and_an_approved_extension_move_a_tickets_deadline_through_events() -> None:
    disclosure = Limits(Rule.parse("workdays:1"), None, Rule.parse("workdays:20"), Rule.parse("workdays:20"))
    subject = ticket("2026-11-02T09:00", limits=disclosure)
    original = subject.due_at
    subject.act(Action.SIGN, actor="李四", at=at("2026-11-02T10:00"))
    subject.act(Action.PAUSE, actor="李四", at=at("2026-11-04T10:00"), comment="等待申请人补正")
    subject.schedule(CAL)
    assert subject.due_at is None
    subject.act(Action.RESUME, actor="李四", at=at("2026-11-11T15:00"), comment="已补正")
    subject.act(
        Action.REQUEST_EXTENSION, actor="李四", at=at("2026-11-12T10:00"), data={"amount": "workdays:20"}
    )
    subject.act(Action.APPROVE_EXTENSION, actor="王主任", at=at("2026-11-12T11:00"), comment="同意延期")
    subject.schedule(CAL)
    expected = due("workdays:45", "2026-11-02T09:00")
    assert expected is not None and subject.due_at == expected.at and subject.due_at != original
    assert subject.provisional  # 45 working days from November reach into 2027
    assert subject.events[0].action is Action.OPEN and len(subject.events) == 6


def test_a_reassignment_restarts_the_signing_clock_only() -> None:
    subject = ticket("2026-11-02T09:00")
    due_before = subject.due_at
    subject.act(Action.REASSIGN, actor="值班员", at=at("2026-11-04T16:00"), data={"unit": "区交通运输局"})
    subject.schedule(CAL)
    assert subject.sign_due_at == at("2026-11-05T23:59:59") and subject.due_at == due_before


@pytest.mark.parametrize("text", ["", "hours", "weeks:2", "hours:0", "workdays:-1", "months:x"])
def test_a_malformed_rule_is_refused_with_the_rule_in_the_error(text: str) -> None:
    with pytest.raises(RuleError) as caught:
        Rule.parse(text)
    assert caught.value.rule == text


def test_a_rule_prints_as_it_is_written() -> None:
    assert str(Rule.parse(" workdays : 20 ")) == "workdays:20"
    assert Rule.parse("months:3") == Rule(RuleKind.MONTHS, 3)


def test_adding_months_clamps_to_the_last_day_of_a_shorter_month() -> None:
    assert add_months(date(2026, 3, 31), 1) == date(2026, 4, 30)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 8, 15), 6) - timedelta(days=0) == date(2027, 2, 15)
