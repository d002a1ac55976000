"""The schedule: slots, file names, the loop with a stop Event, and one scheduled run end to end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from threading import Event

import pytest
from docx import Document
from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from briefing.errors import PeriodError, SourceUnavailable, TemplateError
from briefing.jobs import Sources, scheduled_job
from briefing.pdf import soffice
from briefing.period import period_of
from briefing.schedule import Plan, covered_period, file_name, last_slot, next_slot, parse_at, run_schedule
from briefing.template import Template, load_template, parse_template
from core.china_time import CHINA_TZ
from response_ledger.reminders import Notice
from tests.briefing.samples import DAY


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def test_slots_and_the_period_they_report() -> None:
    at = parse_at("07:30")
    assert at == time(7, 30)
    assert next_slot(_at("2026-03-06T07:00"), at) == _at("2026-03-06T07:30")
    assert next_slot(_at("2026-03-06T07:30"), at) == _at("2026-03-07T07:30")
    assert last_slot(_at("2026-03-06T07:00"), at) == _at("2026-03-05T07:30")
    assert covered_period(_at("2026-03-06T07:30"), "day") == period_of(DAY, "day")
    assert file_name(period_of(DAY, "day")) == "舆情日报-2026-03-05.docx"
    assert file_name(period_of(DAY, "week")) == "舆情周报-2026-03-02.docx"
    assert file_name(period_of(DAY, "month"), ".html") == "舆情月报-2026-03-01.html"
    assert period_of(DAY, "month").previous().label == "2026年02月"
    for bad in ("7.30", "24:00", "07:60", ""):
        with pytest.raises(PeriodError):
            parse_at(bad)


def test_the_loop_runs_a_missed_slot_then_each_slot_until_stopped() -> None:
    stop = Event()
    ran: list[datetime] = []
    now = [_at("2026-03-06T09:00")]

    def job(slot: datetime) -> None:
        ran.append(slot)
        if len(ran) == 3:
            stop.set()

    plan = Plan(every=timedelta(milliseconds=1))
    runs = run_schedule(job, plan, stop=stop, clock=lambda: now[0])
    assert runs == 3 and ran[1] - ran[0] == timedelta(milliseconds=1)

    stop, ran = Event(), []
    stop.set()  # stopped before the next 07:30: only the missed one runs
    runs = run_schedule(job, Plan(at=time(7, 30)), stop=stop, clock=lambda: now[0], missed=lambda slot: True)
    assert ran == [_at("2026-03-06T07:30")] and runs == 1


def test_a_failed_run_is_logged_and_the_schedule_goes_on() -> None:
    stop, calls = Event(), []

    def job(slot: datetime) -> None:
        calls.append(slot)
        if len(calls) == 2:
            stop.set()
        raise SourceUnavailable("archive", "down")

    assert run_schedule(job, Plan(every=timedelta(milliseconds=1)), stop=stop) == 2


class _Inbox:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        self.notices.append(notice)


def test_a_scheduled_run_writes_the_file_and_sends_the_notice(
    archive: EmbeddedArchive, ledger: Engine, tmp_path: Path
) -> None:
    @contextmanager
    def sources() -> Iterator[Sources]:
        yield Sources(archive, ledger)

    inbox = _Inbox()
    job = scheduled_job(
        open_sources=sources,
        directory=tmp_path / "briefings",
        template=Template(recipients=("mailto:leader@example.gov.cn",)),
        kind="day",
        notifier=inbox,
        clock=lambda: _at("2026-03-06T07:30"),
    )
    path = job(_at("2026-03-06T07:30"))
    assert path == tmp_path / "briefings" / "舆情日报-2026-03-05.docx"
    assert Document(str(path)).paragraphs[1].text == "舆情日报"  # under the 内部资料 line
    assert path.with_suffix(".pdf").exists() or soffice() is None
    (notice,) = inbox.notices
    assert notice.recipients == ("mailto:leader@example.gov.cn",)
    assert notice.subject == "舆情日报（2026年03月05日）"
    assert "共监测到舆情信息" in notice.text and path.name in notice.text


def test_templates_load_and_refuse_bad_values(tmp_path: Path) -> None:
    assert load_template() == Template()
    custom = tmp_path / "t.yaml"
    custom.write_text(
        "department: 某区网信办\nsections: [headline, ledger]\ntitles: {day: 每日舆情}\n", "utf-8"
    )
    template = load_template(custom)
    assert template.department == "某区网信办" and template.sections == ("headline", "ledger")
    assert template.title("day") == "每日舆情" and template.title("week") == "舆情周报"
    for bad in (
        {"sections": ["weather"]},
        {"top_events": -1},
        {"risk_threshold": 101},
        {"recipients": ["x"]},
    ):
        with pytest.raises(TemplateError):
            parse_template(bad)
