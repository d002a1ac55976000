"""``yuqing schedule``: briefings after their period and its crawl, reminders, catching up once, restarts.

Every test drives :class:`yuqing.scheduler.Schedule` with an injected clock (no sleeping, no
APScheduler thread): ``check_all()`` is what the ``pending`` job does at start and every minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archive.embedded import EmbeddedArchive
from briefing.compute import compute_briefing
from briefing.jobs import Outcome, Sources, written_empty
from briefing.period import period_of
from briefing.render import write_briefing
from core.china_time import CHINA_TZ
from core.messages import EnrichedPost
from crawlers.rounds import crawled_since, record_cycle
from response_ledger.db import make_engine, migrate
from response_ledger.reminders import Notice
from tests.briefing.samples import DAY, posts, published
from yuqing.cli import main
from yuqing.commands.health import CHECKS
from yuqing.scheduler import (
    Schedule,
    ScheduleState,
    apscheduler_for,
    heartbeat_age,
    hold_lock,
    schedule_dir,
    service_schedule,
)
from yuqing.settings import Settings, SettingsError


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


class _Inbox:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        self.notices.append(notice)


class _Clock:
    def __init__(self, start: str) -> None:
        self.now = _at(start)

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = _at(text)


def _of_day(day: int) -> list[EnrichedPost]:
    """The sample posts published on 2026-03-0<day>."""
    return [post for post in posts() if published(post).day == day]


class _Service:
    """A home with an embedded archive and a SQLite ledger, and schedules built on it."""

    def __init__(self, home: Path, *, briefing_at: str = "07:30", remind_every_minutes: int = 0) -> None:
        self.settings = Settings(
            home=home, briefing_at=briefing_at, remind_every_minutes=remind_every_minutes
        )
        self.archive = EmbeddedArchive(self.settings.archive_path)
        self.ledger = make_engine(self.settings.ledger_sqlalchemy_url)
        migrate(self.ledger)
        self.inbox = _Inbox()
        self.down = False

    @contextmanager
    def sources(self) -> Iterator[Sources]:
        if self.down:
            from briefing.errors import SourceUnavailable

            raise SourceUnavailable("archive", "connection refused")
        yield Sources(self.archive, self.ledger)

    def schedule(self, clock: _Clock, **kwargs: Any) -> Schedule:
        """A schedule as a (re)started process builds it: state read from the home."""
        return service_schedule(
            self.settings, notifier=self.inbox, clock=clock, open_sources=self.sources, pdf=False, **kwargs
        )

    def crawled(self, started: str, finished: str) -> None:
        """The crawl loop finished a cycle of every source."""
        record_cycle(
            self.settings.crawl_state_path,
            configured=["board", "weibo"],
            crawled=["board", "weibo"],
            started=_at(started),
            finished=_at(finished),
            code=0,
        )

    def files(self) -> list[str]:
        folder = self.settings.home / "briefings"
        return sorted(path.name for path in folder.glob("舆情*")) if folder.exists() else []

    def close(self) -> None:
        self.archive.close()
        self.ledger.dispose()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[_Service]:
    """A 07:30 daily briefing, reminders off."""
    built = _Service(tmp_path / "home")
    yield built
    built.close()


def test_the_daily_briefing_fires_after_midnight_for_yesterday_not_before(tmp_path: Path) -> None:
    service = _Service(tmp_path / "home", briefing_at="00:05")
    try:
        service.archive.index(_of_day(4) + _of_day(5))
        ScheduleState(schedule_dir(service.settings.home) / "state.json").mark(
            "briefing-day", _at("2026-03-05T00:05"), ran_at=_at("2026-03-05T00:06")
        )  # the 4th's briefing went out this morning
        clock = _Clock("2026-03-05T23:59")
        schedule = service.schedule(clock)
        service.crawled("2026-03-05T23:50", "2026-03-05T23:51")
        assert schedule.check_all() == {"briefing-day": None}  # the 5th is not over
        clock.set("2026-03-06T00:04")
        service.crawled("2026-03-06T00:01", "2026-03-06T00:02")  # a crawl since midnight
        assert schedule.check_all() == {"briefing-day": None}  # not 00:05 yet
        assert service.files() == []
        clock.set("2026-03-06T00:05")
        # The crawl has covered the day; the workers get Readiness.settle to index what it found.
        assert schedule.check_all() == {"briefing-day": Outcome.DEFERRED}
        clock.set("2026-03-06T00:07")
        assert schedule.check_all() == {"briefing-day": Outcome.DONE}
        assert service.files() == ["舆情日报-2026-03-05.docx"]
        assert service.inbox.notices == []  # the packaged template names no recipients
        assert schedule.state.last_slot("briefing-day") == _at("2026-03-06T00:05")
    finally:
        service.close()


def test_a_missed_run_is_caught_up_once_and_a_restart_runs_nothing_again(service: _Service) -> None:
    service.archive.index(_of_day(4) + _of_day(5))
    ScheduleState(schedule_dir(service.settings.home) / "state.json").mark(
        "briefing-day", _at("2026-03-03T07:30"), ran_at=_at("2026-03-03T07:31")
    )
    service.crawled("2026-03-06T00:10", "2026-03-06T00:12")
    # Down since the 3rd: the slots of the 4th, 5th and 6th were missed. The start catches up once,
    # with the latest (the 5th's briefing), after the settle time.
    clock = _Clock("2026-03-06T09:00")
    schedule = service.schedule(clock)
    assert schedule.check_all() == {"briefing-day": Outcome.DEFERRED}
    clock.set("2026-03-06T09:03")
    assert schedule.check_all() == {"briefing-day": Outcome.DONE}
    clock.set("2026-03-06T09:04")
    assert schedule.check_all() == {"briefing-day": None}
    assert service.files() == ["舆情日报-2026-03-05.docx"]
    written = (service.settings.home / "briefings" / "舆情日报-2026-03-05.docx").stat().st_mtime_ns

    # A restart later that day: the state says the slot is done; nothing is written or sent again.
    clock.set("2026-03-06T15:00")
    restarted = service.schedule(clock)
    assert restarted.check_all() == {"briefing-day": None}
    assert (service.settings.home / "briefings" / "舆情日报-2026-03-05.docx").stat().st_mtime_ns == written
    assert restarted.state.get("day:2026-03-05") is not None
    assert heartbeat_age(service.settings.home, clock()) == timedelta(0)


def test_nothing_is_written_for_a_period_before_the_first_crawl_and_an_empty_file_is_redone(
    service: _Service,
) -> None:
    # What a start before this version did: the 5th's briefing written empty before any crawl.
    empty = compute_briefing(
        service.archive, service.ledger, period_of(DAY, "day"), now=_at("2026-03-06T15:00")
    )
    stale = write_briefing(empty, service.settings.home / "briefings" / "舆情日报-2026-03-05.docx")
    assert written_empty(stale)

    clock = _Clock("2026-03-06T15:00")  # `make run` started: no crawl has finished, the archive is empty
    schedule = service.schedule(clock)
    for minute in range(5):
        clock.set(f"2026-03-06T15:0{minute}")
        assert schedule.check_all() == {"briefing-day": Outcome.DEFERRED}
    assert service.files() == ["舆情日报-2026-03-05.docx"] and written_empty(stale)
    assert schedule.state.last_slot("briefing-day") is None

    # The first crawl finishes and its posts are indexed; the workers' settle time passes.
    service.crawled("2026-03-06T15:04", "2026-03-06T15:05")
    service.archive.index(_of_day(4) + _of_day(5))
    clock.set("2026-03-06T15:05")
    assert schedule.check_all() == {"briefing-day": Outcome.DEFERRED}
    clock.set("2026-03-06T15:07")
    assert schedule.check_all() == {"briefing-day": Outcome.DONE}
    assert not written_empty(stale)
    assert schedule.state.get("day:2026-03-05")["posts"] == len(_of_day(5))  # type: ignore[index]


def test_a_service_without_any_post_writes_no_briefing(service: _Service) -> None:
    service.crawled("2026-03-06T00:10", "2026-03-06T00:12")  # crawled, but the sources had nothing
    clock = _Clock("2026-03-06T07:30")
    schedule = service.schedule(clock)
    schedule.check_all()
    clock.set("2026-03-06T07:40")
    assert schedule.check_all() == {"briefing-day": Outcome.DEFERRED}
    assert service.files() == []


def test_an_older_file_written_empty_is_regenerated_quietly_when_its_posts_arrive(service: _Service) -> None:
    service.archive.index(_of_day(5))
    service.crawled("2026-03-06T00:10", "2026-03-06T00:12")
    clock = _Clock("2026-03-06T07:30")
    schedule = service.schedule(clock)
    schedule.check_all()
    clock.set("2026-03-06T07:33")
    assert schedule.check_all() == {"briefing-day": Outcome.DONE}  # the 5th
    sent = len(service.inbox.notices)
    # The 4th's file, written empty by an earlier run, with its posts imported only now.
    old = compute_briefing(service.archive, service.ledger, period_of(DAY - timedelta(days=1), "day"),
                           now=clock())  # fmt: skip
    path = write_briefing(old, service.settings.home / "briefings" / "舆情日报-2026-03-04.docx")
    clock.set("2026-03-06T08:00")
    schedule.check_all()
    assert written_empty(path)  # its period still has no post
    service.archive.index(_of_day(4))
    clock.set("2026-03-06T08:01")
    schedule.check_all()
    assert not written_empty(path)
    assert schedule.state.get("day:2026-03-04")["origin"] == "refreshed"  # type: ignore[index]
    assert len(service.inbox.notices) == sent  # not sent again: the leaders had the 4th long ago


def test_a_failed_run_is_retried_later_and_the_schedule_goes_on(service: _Service) -> None:
    service.archive.index(_of_day(5))
    service.crawled("2026-03-06T00:10", "2026-03-06T00:12")
    service.down = True
    clock = _Clock("2026-03-06T07:30")
    schedule = service.schedule(clock)
    assert schedule.check_all() == {"briefing-day": None}  # failed, logged
    service.down = False
    clock.set("2026-03-06T07:35")
    assert schedule.check_all() == {"briefing-day": None}  # waits RETRY_AFTER
    clock.set("2026-03-06T07:40")
    assert schedule.check_all() == {"briefing-day": Outcome.DEFERRED}  # settling
    clock.set("2026-03-06T07:42")
    assert schedule.check_all() == {"briefing-day": Outcome.DONE}


def test_reminders_run_every_interval_catch_up_once_and_not_again_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _Service(tmp_path / "home", remind_every_minutes=15)
    calls: list[datetime] = []

    def send_reminders(uow: object, notifier: object, *, now: datetime, policy: object) -> list[Notice]:
        assert uow == "uow" and notifier is service.inbox and policy is not None
        calls.append(now)
        return []

    @contextmanager
    def ledger() -> Iterator[Any]:
        yield "uow"

    monkeypatch.setattr("response_ledger.reminders.send_reminders", send_reminders)
    try:
        clock = _Clock("2026-03-06T10:07")
        schedule = service.schedule(clock, open_ledger=ledger)
        schedule.check("reminders")  # the slot of 10:00, at start
        clock.set("2026-03-06T10:14")
        schedule.check("reminders")
        clock.set("2026-03-06T10:15")
        schedule.check("reminders")
        assert calls == [_at("2026-03-06T10:07"), _at("2026-03-06T10:15")]
        clock.set("2026-03-06T10:20")
        assert service.schedule(clock, open_ledger=ledger).check("reminders") is None  # restarted
        clock.set("2026-03-06T13:40")  # down for three hours: one run, not twelve
        restarted = service.schedule(clock, open_ledger=ledger)
        assert restarted.check("reminders") is Outcome.DONE
        assert restarted.check("reminders") is None
        assert calls[2:] == [_at("2026-03-06T13:40")]
    finally:
        service.close()


def test_the_jobs_are_apscheduler_jobs_with_their_triggers(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", briefing_at="06:45", briefing_periods="day,week,month")
    schedule = service_schedule(settings, notifier=_Inbox(), clock=lambda: _at("2026-03-06T12:00"))
    scheduler = apscheduler_for(schedule, tick=timedelta(minutes=1))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"briefing-day", "briefing-week", "briefing-month", "reminders", "pending"}
    after = _at("2026-03-06T12:00")
    assert jobs["briefing-day"].trigger.get_next_fire_time(None, after) == _at("2026-03-07T06:45")
    assert jobs["briefing-week"].trigger.get_next_fire_time(None, after) == _at("2026-03-09T06:45")
    assert jobs["briefing-month"].trigger.get_next_fire_time(None, after) == _at("2026-04-01T06:45")
    assert jobs["reminders"].trigger.get_next_fire_time(None, after) == _at("2026-03-06T12:00")
    assert jobs["pending"].coalesce and jobs["pending"].misfire_grace_time is None
    schedule.close()


def test_the_crawl_rounds_say_since_when_every_source_was_crawled(tmp_path: Path) -> None:
    assert crawled_since(tmp_path) is None
    record_cycle(tmp_path, configured=["a", "b"], crawled=["a"], started=_at("2026-03-06T00:01"),
                 finished=_at("2026-03-06T00:02"), code=0)  # fmt: skip
    assert crawled_since(tmp_path) is None  # b never crawled
    record_cycle(tmp_path, configured=["a", "b"], crawled=["b"], started=_at("2026-03-06T00:03"),
                 finished=_at("2026-03-06T00:04"), code=1)  # fmt: skip
    assert crawled_since(tmp_path) == _at("2026-03-06T00:01")
    record_cycle(tmp_path, configured=["b"], crawled=["b"], started=_at("2026-03-06T00:05"),
                 finished=_at("2026-03-06T00:06"), code=0)  # fmt: skip
    assert crawled_since(tmp_path) == _at("2026-03-06T00:05")  # a is no longer configured


def test_the_command_checks_once_and_reports_health(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("YUQING_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("YUQING_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exit_info:
        main(["schedule", "--once"])
    assert exit_info.value.code == 0
    assert "定时任务已启动：舆情日报 每天 07:30；回应台账提醒 每 15 分钟" in capsys.readouterr().out
    settings = Settings(home=tmp_path / "home")
    CHECKS["scheduler"](settings)  # the heartbeat is fresh
    assert not (settings.home / "briefings").exists()  # an empty service briefs nothing
    assert ScheduleState(schedule_dir(settings.home) / "state.json").last_slot("reminders") is not None
    with hold_lock(settings.home), pytest.raises(SystemExit) as second:
        main(["schedule", "--once"])  # while another scheduler runs on this home
    assert second.value.code == 2
    assert "另一个定时任务进程正在运行" in capsys.readouterr().err


def test_a_saved_searchs_alert_is_sent_once_per_firing_to_the_duty_office(tmp_path: Path) -> None:
    from archive.saved import SavedSearch
    from dashboard.acks import AlertStore
    from dashboard.auth import Role, User
    from yuqing.backends import make_saved_searches

    service = _Service(tmp_path / "home")
    service.settings = Settings(home=service.settings.home, alert_recipients="mailto:duty@example.gov.cn")
    try:
        make_saved_searches(service.settings).save(
            SavedSearch("燃气", "燃气", alert_threshold=2, created_at="2026-03-06T09:00:00+08:00")
        )
        sample = posts()[0]

        def gas(number: int, at: str) -> EnrichedPost:
            return {
                **sample,
                "id": f"board:gas:{number}",
                "title": "燃气泄漏",
                "text": "小区燃气泄漏",
                "published_at": at,
            }

        service.archive.index([gas(1, "2026-03-06T09:10:00+08:00")])
        service.archive.refresh()
        clock = _Clock("2026-03-06T09:30")
        schedule = service.schedule(clock)
        assert "search-alerts" in schedule.jobs and schedule.check("search-alerts") is Outcome.DONE
        assert service.inbox.notices == []  # one post: below the threshold
        service.archive.index([gas(2, "2026-03-06T09:20:00+08:00")])
        service.archive.refresh()
        clock.set("2026-03-06T09:31")
        schedule.check("search-alerts")
        [notice] = service.inbox.notices
        assert notice.recipients == ("mailto:duty@example.gov.cn",)
        assert notice.text.startswith("【检索预警】保存的查询“燃气”新增 2 条命中（预警阈值 2）")
        clock.set("2026-03-06T09:32")
        schedule.check("search-alerts")
        restarted = service.schedule(_Clock("2026-03-06T09:40"))
        restarted.check("search-alerts")
        assert len(service.inbox.notices) == 1  # the firing waits for 确认 and was sent already

        store = AlertStore(service.ledger)
        [firing] = store.active()
        assert firing.notified_at is not None
        store.acknowledge(firing.alert.id, User("duty1", "值班员甲", Role.DUTY), _at("2026-03-06T09:45"))
        service.archive.index([gas(3, "2026-03-06T09:50:00+08:00"), gas(4, "2026-03-06T09:55:00+08:00")])
        service.archive.refresh()
        clock = _Clock("2026-03-06T10:00")
        restarted = service.schedule(clock)
        restarted.check("search-alerts")
        assert len(service.inbox.notices) == 2 and "自 03-06 09:45 起发布" in service.inbox.notices[1].text
        restarted.close()
        schedule.close()
    finally:
        service.close()


def test_without_alert_addresses_there_is_no_search_alert_job(tmp_path: Path) -> None:
    schedule = service_schedule(Settings(home=tmp_path / "home"), notifier=_Inbox())
    assert "search-alerts" not in schedule.jobs
    with pytest.raises(SettingsError, match="ALERT_RECIPIENTS"):
        Settings.from_env({"YUQING_ALERT_RECIPIENTS": "duty@example.gov.cn"})
