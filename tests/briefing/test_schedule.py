"""The briefing's calendar (slots, file names) and one scheduled run end to end."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from briefing.errors import PeriodError, TemplateError
from briefing.jobs import Outcome, ScheduledBriefings, Sources, written_empty
from briefing.pdf import soffice
from briefing.period import period_of
from briefing.schedule import covered_period, file_name, parse_at
from briefing.template import Template, load_template, parse_template
from core.china_time import CHINA_TZ
from response_ledger.reminders import Notice
from tests.briefing.samples import DAY


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def test_slots_and_the_period_they_report() -> None:
    at = parse_at("07:30")
    assert at == time(7, 30)
    assert covered_period(_at("2026-03-06T07:30"), "day") == period_of(DAY, "day")
    # A Monday's slot reports the week before; the 1st's, the month before: periods that are over.
    assert covered_period(_at("2026-03-09T07:30"), "week") == period_of(DAY, "week")
    assert covered_period(_at("2026-04-01T07:30"), "month") == period_of(DAY, "month")
    assert file_name(period_of(DAY, "day")) == "舆情日报-2026-03-05.docx"
    assert file_name(period_of(DAY, "week")) == "舆情周报-2026-03-02.docx"
    assert file_name(period_of(DAY, "month"), ".html") == "舆情月报-2026-03-01.html"
    assert period_of(DAY, "month").previous().label == "2026年02月"
    for bad in ("7.30", "24:00", "07:60", ""):
        with pytest.raises(PeriodError):
            parse_at(bad)


class _Inbox:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        self.notices.append(notice)


class _Records:
    def __init__(self) -> None:
        self.data: dict[str, Mapping[str, Any]] = {}

    def get(self, key: str) -> Mapping[str, Any] | None:
        return self.data.get(key)

    def put(self, key: str, record: Mapping[str, Any]) -> None:
        self.data[key] = dict(record)


def test_a_scheduled_run_writes_the_file_and_sends_the_notice(
    archive: EmbeddedArchive, ledger: Engine, tmp_path: Path
) -> None:
    @contextmanager
    def sources() -> Iterator[Sources]:
        yield Sources(archive, ledger)

    inbox, records = _Inbox(), _Records()
    briefings = ScheduledBriefings(
        open_sources=sources,
        directory=tmp_path / "briefings",
        template=Template(recipients=("mailto:leader@example.gov.cn",)),
        notifier=inbox,
        records=records,
        crawled_since=lambda: _at("2026-03-06T00:01"),  # the crawl has been through since the day ended
        pdf=True,
    )
    # The crawl covered the day: the run waits Readiness.settle for the workers, then writes.
    assert briefings.run("day", _at("2026-03-06T07:30"), _at("2026-03-06T07:30")) is Outcome.DEFERRED
    assert briefings.run("day", _at("2026-03-06T07:30"), _at("2026-03-06T07:33")) is Outcome.DONE
    path = tmp_path / "briefings" / "舆情日报-2026-03-05.docx"
    assert Document(str(path)).paragraphs[1].text == "舆情日报"  # under the 内部资料 line
    assert path.with_suffix(".pdf").exists() or soffice() is None
    (notice,) = inbox.notices
    assert notice.recipients == ("mailto:leader@example.gov.cn",)
    assert notice.subject == "舆情日报（2026年03月05日）"
    assert "共监测到舆情信息" in notice.text and path.name in notice.text
    assert records.data["day:2026-03-05"]["sent"] is True and not written_empty(path)
    # Its file is there: a second run (a restart without state) adopts it and sends nothing.
    assert briefings.run("day", _at("2026-03-06T07:30"), _at("2026-03-06T08:00")) is Outcome.DONE
    assert len(inbox.notices) == 1


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
