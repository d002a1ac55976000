"""``yuqing schedule``: the service's one scheduler — briefings and the ledger's reminders (APScheduler).

Jobs (``Settings``: ``briefing_at``, ``briefing_periods``, ``remind_every_minutes``):

* ``briefing-day`` every day at ``briefing_at`` (China time): the 舆情日报 of the day before;
  ``briefing-week`` on Mondays: the 周报 of the week before; ``briefing-month`` on the 1st: the 月报
  of the month before — each only for a period that is over, and only once its data is in
  (:class:`briefing.jobs.ScheduledBriefings`);
* ``reminders`` every ``remind_every_minutes``: the due-soon, overdue and 督办 notices of
  :func:`response_ledger.reminders.send_reminders` through the ledger's channels;
* ``search-alerts`` every minute when ``alert_recipients`` names addresses: the saved searches
  whose alert threshold is reached fire (the same rule and alerts as 值班监测,
  :mod:`dashboard.search_alerts`), and each firing is sent to those addresses once;
* ``archive-retention`` every day at 03:00 when the archive is Elasticsearch and
  ``archive_retention_months`` is set: the monthly indices past the retention are deleted
  (:meth:`archive.elastic.ElasticArchive.expire`; the cluster's ILM policy deletes the same ones
  where it has ILM).

Each job is an APScheduler trigger. Whenever a job is checked — at its trigger's fire times, and
every :data:`TICK` by the ``pending`` job, which also runs once at start — it works out the latest
fire time at or before now (its *slot*) and runs once for it unless its state file already says
that slot was done. So a run missed while the process was down is caught up once at start (however
many slots were missed: coalesced), a deferred briefing (data not in yet) is tried again at the
next tick, and a restart re-runs nothing. A job that fails is logged and tried again after
:data:`RETRY_AFTER`.

State lives in ``<home>/schedule/state.json`` (each job's last slot, each briefing file written);
``<home>/schedule/heartbeat`` holds the time of the last tick, which ``yuqing health scheduler``
reads. Run exactly one scheduler per deployment: ``<home>/schedule/lock`` (an advisory ``flock``)
makes a second one on the same home refuse to start.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from briefing.jobs import Outcome
from core.china_time import CHINA_TZ, china_time
from yuqing.settings import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import Engine

    from briefing.jobs import ScheduledBriefings, Sources
    from response_ledger.reminders import Notifier
    from response_ledger.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

STATE_DIR = "schedule"
STATE_FILE = "state.json"
HEARTBEAT_FILE = "heartbeat"
LOCK_FILE = "lock"
# How often pending work (deferred briefings, files written empty) is looked at, and the heartbeat.
TICK = timedelta(minutes=1)
# After a failed run (archive or ledger down), how long before the job is tried again.
RETRY_AFTER = timedelta(minutes=10)
# A heartbeat older than this makes `yuqing health scheduler` fail.
HEARTBEAT_STALE = timedelta(minutes=5)
# The reminders' interval counts from here, so their slots fall on the same minutes after a restart.
REMINDER_ANCHOR = datetime(2000, 1, 3, tzinfo=CHINA_TZ)
# When the archive's expired months are deleted each day (China time): a quiet hour.
RETENTION_AT = time(3, 0)
# How often the saved searches' alerts are checked and sent.
SEARCH_ALERT_EVERY = timedelta(minutes=1)
# The cron fields of each briefing kind's slot: the first day after its period ends.
BRIEFING_DAYS: dict[str, dict[str, Any]] = {"day": {}, "week": {"day_of_week": "mon"}, "month": {"day": 1}}
# How far back a job's latest slot is looked for (a little more than one period).
BRIEFING_LOOKBACK = {"day": timedelta(days=2), "week": timedelta(days=8), "month": timedelta(days=32)}


def schedule_dir(home: Path) -> Path:
    """Where the scheduler keeps its state and heartbeat: ``<home>/schedule``."""
    return home / STATE_DIR


def heartbeat_path(home: Path) -> Path:
    """The scheduler's heartbeat file."""
    return schedule_dir(home) / HEARTBEAT_FILE


class AlreadyRunning(Exception):
    """Another scheduler holds the home's lock: two would send everything twice."""


def hold_lock(home: Path) -> TextIO:
    """Take the home's scheduler lock for the life of the returned file (released when it closes).

    Raises :class:`AlreadyRunning` when another process holds it.
    """
    import fcntl

    path = schedule_dir(home) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise AlreadyRunning(str(path)) from exc
    return handle


def _moment(text: object) -> datetime | None:
    try:
        return china_time(datetime.fromisoformat(str(text)))
    except ValueError:
        return None


class ScheduleState:
    """The scheduler's memory, one JSON file: each job's last slot and each briefing file it knows.

    Written atomically after every change; also the :class:`briefing.jobs.Records` of the briefings.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] = {"jobs": {}, "briefings": {}}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            # Unreadable state: start afresh (files already written are adopted, not re-sent).
            log.error("event=schedule-state-unreadable path=%s error=%s", path, exc)
            return
        if isinstance(loaded, dict):
            for section in ("jobs", "briefings"):
                if isinstance(loaded.get(section), dict):
                    self._data[section] = loaded[section]

    def last_slot(self, job: str) -> datetime | None:
        """The slot of the job's last completed run, or None."""
        entry = self._data["jobs"].get(job)
        return _moment(entry.get("slot")) if isinstance(entry, dict) else None

    def job(self, name: str) -> Mapping[str, Any]:
        """What is recorded of job ``name`` (slot, ran_at, outcome), possibly nothing."""
        entry = self._data["jobs"].get(name)
        return dict(entry) if isinstance(entry, dict) else {}

    def mark(self, job: str, slot: datetime, *, ran_at: datetime) -> None:
        """Record that ``job``'s run for ``slot`` is done."""
        self._data["jobs"][job] = {
            "slot": slot.isoformat(timespec="seconds"),
            "ran_at": ran_at.isoformat(timespec="seconds"),
        }
        self._save()

    def get(self, key: str) -> Mapping[str, Any] | None:
        """The briefing record of ``key`` (``day:2026-03-05``), or None."""
        record = self._data["briefings"].get(key)
        return dict(record) if isinstance(record, dict) else None

    def put(self, key: str, record: Mapping[str, Any]) -> None:
        """Store the briefing record of ``key``."""
        self._data["briefings"][key] = dict(record)
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(self._data, file, ensure_ascii=False, indent=1, sort_keys=True)
        Path(temporary).replace(self.path)


@dataclass(frozen=True)
class Job:
    """A scheduled job: its trigger and what it does for a slot (``run(slot, now)``)."""

    name: str
    trigger: BaseTrigger
    lookback: timedelta
    run: Callable[[datetime, datetime], Outcome]


def latest_slot(trigger: BaseTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest fire time of ``trigger`` in ``(now - lookback, now]``, or None."""
    found: datetime | None = None
    fire = trigger.get_next_fire_time(None, now - lookback)
    while fire is not None and fire <= now:
        found = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return None if found is None else china_time(found)


def briefing_trigger(kind: str, at: time) -> CronTrigger:
    """Daily, on Mondays or on the 1st (by ``kind``) at ``at``, China time."""
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=CHINA_TZ, **BRIEFING_DAYS[kind])


def reminder_trigger(minutes: int) -> IntervalTrigger:
    """Every ``minutes``, counted from a fixed moment."""
    return IntervalTrigger(minutes=minutes, start_date=REMINDER_ANCHOR, timezone=CHINA_TZ)


class Schedule:
    """The jobs, their state and the pending work, checked against ``clock`` (injected in tests)."""

    def __init__(
        self,
        jobs: Sequence[Job],
        state: ScheduleState,
        *,
        clock: Callable[[], datetime],
        heartbeat: Path | None = None,
        pending: Callable[[datetime], object] | None = None,
        on_close: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.jobs = {job.name: job for job in jobs}
        self.state = state
        self._clock = clock
        self._heartbeat = heartbeat
        self._pending = pending
        self._on_close = tuple(on_close)
        self._retry_at: dict[str, datetime] = {}
        # APScheduler runs jobs on one worker thread; the lock keeps a direct call from overlapping.
        self._lock = threading.Lock()

    def check(self, name: str) -> Outcome | None:
        """Run job ``name`` for its latest slot if that is not done yet; None when nothing ran.

        A failure is logged (with its traceback) and the job is tried again after RETRY_AFTER: the
        schedule must outlive an archive, ledger or mail server that is down.
        """
        with self._lock:
            job = self.jobs[name]
            now = self._clock()
            slot = latest_slot(job.trigger, now, job.lookback)
            last = self.state.last_slot(name)
            if slot is None or (last is not None and slot <= last):
                return None
            if now < self._retry_at.get(name, now):
                return None
            try:
                outcome = job.run(slot, now)
            except Exception:  # one job's failure is logged (log.exception): the schedule goes on
                log.exception("event=job-failed job=%s slot=%s", name, slot.isoformat())
                self._retry_at[name] = now + RETRY_AFTER
                return None
            self._retry_at.pop(name, None)
            if outcome is Outcome.DONE:
                self.state.mark(name, slot, ran_at=now)
            # A deferred job is looked at every tick: only its first deferral is worth an INFO line.
            level = logging.DEBUG if outcome is Outcome.DEFERRED else logging.INFO
            log.log(level, "event=job-run job=%s slot=%s outcome=%s", name, slot.isoformat(), outcome.value)
            return outcome

    def check_all(self) -> dict[str, Outcome | None]:
        """Check every job (catching up what was missed), then the pending work; beat."""
        self.beat()
        outcomes = {name: self.check(name) for name in self.jobs}
        if self._pending is not None:
            with self._lock:
                try:
                    self._pending(self._clock())
                except Exception:  # as in check()
                    log.exception("event=pending-failed")
        self.beat()
        return outcomes

    def beat(self) -> None:
        """Write the heartbeat: the scheduler is alive at ``clock()``."""
        if self._heartbeat is None:
            return
        try:
            self._heartbeat.parent.mkdir(parents=True, exist_ok=True)
            self._heartbeat.write_text(self._clock().isoformat(timespec="seconds"), encoding="utf-8")
        except OSError as exc:
            log.error("event=heartbeat-failed error=%s", exc)

    def close(self) -> None:
        """Release what the jobs hold (the ledger engine)."""
        for close in self._on_close:
            close()


def heartbeat_age(home: Path, now: datetime) -> timedelta | None:
    """How long ago the scheduler last beat, or None when it never has (or the file is unreadable)."""
    try:
        beat = _moment(heartbeat_path(home).read_text(encoding="utf-8").strip())
    except OSError:
        return None
    return None if beat is None else now - beat


def _now() -> datetime:
    return datetime.now(CHINA_TZ)


@contextmanager
def settings_sources(settings: Settings) -> Iterator[Sources]:
    """The configured archive and ledger, closed after the run (the ledger is read, never migrated)."""
    from briefing.jobs import Sources
    from response_ledger.db import make_engine
    from yuqing.backends import make_archive

    archive = make_archive(settings)
    engine = make_engine(settings.ledger_sqlalchemy_url)
    try:
        yield Sources(archive, engine)
    finally:
        engine.dispose()
        archive.close()


def scheduled_briefings(
    settings: Settings,
    state: ScheduleState,
    *,
    notifier: Notifier,
    open_sources: Callable[[], AbstractContextManager[Sources]] | None = None,
    pdf: bool = True,
) -> ScheduledBriefings:
    """The briefing runs of ``settings``: its template, kinds, briefings folder and crawl rounds."""
    from briefing.jobs import ScheduledBriefings
    from briefing.schedule import briefings_dir
    from briefing.template import load_template
    from crawlers.rounds import crawled_since

    return ScheduledBriefings(
        open_sources=open_sources or (lambda: settings_sources(settings)),
        directory=briefings_dir(settings.home),
        template=load_template(settings.briefing_template_file),
        notifier=notifier,
        records=state,
        crawled_since=lambda: crawled_since(settings.crawl_state_path),
        kinds=settings.briefing_kinds,
        pdf=pdf,
        docx_template=settings.briefing_docx_template,
    )


def _briefing_run(briefings: ScheduledBriefings, kind: str) -> Callable[[datetime, datetime], Outcome]:
    def run(slot: datetime, now: datetime) -> Outcome:
        return briefings.run(kind, slot, now)

    return run


def service_schedule(
    settings: Settings,
    *,
    notifier: Notifier,
    clock: Callable[[], datetime] = _now,
    open_sources: Callable[[], AbstractContextManager[Sources]] | None = None,
    open_ledger: Callable[[], AbstractContextManager[UnitOfWork]] | None = None,
    pdf: bool = True,
) -> Schedule:
    """The schedule ``settings`` configure (``open_*`` and ``pdf`` for tests)."""
    from briefing.schedule import parse_at
    from response_ledger.policy import load_policy
    from response_ledger.reminders import send_reminders

    at = parse_at(settings.briefing_at)
    state = ScheduleState(schedule_dir(settings.home) / STATE_FILE)
    briefings = scheduled_briefings(settings, state, notifier=notifier, open_sources=open_sources, pdf=pdf)
    jobs = [
        Job(
            f"briefing-{kind}",
            briefing_trigger(kind, at),
            BRIEFING_LOOKBACK[kind],
            _briefing_run(briefings, kind),
        )
        for kind in briefings.kinds
    ]
    on_close: list[Callable[[], None]] = []
    if settings.remind_every_minutes:
        policy = load_policy(settings.ledger_policy_path)
        engines: list[Engine] = []

        def settings_ledger() -> AbstractContextManager[UnitOfWork]:
            from response_ledger.unit_of_work import SqlUnitOfWork, engine_from_settings

            if not engines:
                engines.append(engine_from_settings(settings))  # migrated once, as the ledger worker does
            return SqlUnitOfWork(engines[0])

        def dispose() -> None:
            for engine in engines:
                engine.dispose()

        on_close.append(dispose)
        ledger = open_ledger or settings_ledger

        def remind(slot: datetime, now: datetime) -> Outcome:
            with ledger() as uow:
                sent = send_reminders(uow, notifier, now=now, policy=policy)
            log.info("event=reminders-sent count=%d", len(sent))
            return Outcome.DONE

        minutes = settings.remind_every_minutes
        jobs.append(Job("reminders", reminder_trigger(minutes), timedelta(minutes=2 * minutes), remind))
    if settings.alert_addresses:
        jobs.append(search_alerts_job(settings, notifier, on_close))
    if settings.archive_url != "embedded" and settings.archive_retention_months > 0:
        jobs.append(archive_retention_job(settings))
    return Schedule(
        jobs,
        state,
        clock=clock,
        heartbeat=heartbeat_path(settings.home),
        pending=briefings.refresh,
        on_close=on_close,
    )


def archive_retention_job(settings: Settings) -> Job:
    """The ``archive-retention`` job: delete the Elasticsearch archive's months past the retention."""

    def run(slot: datetime, now: datetime) -> Outcome:
        from archive.elastic import ElasticArchive
        from yuqing.backends import make_archive

        archive = make_archive(settings)
        try:
            if isinstance(archive, ElasticArchive):
                archive.ensure()  # the policy and template follow the settings
                deleted = archive.expire(now)
                log.info("event=archive-retention deleted=%d", len(deleted))
        finally:
            archive.close()
        return Outcome.DONE

    trigger = CronTrigger(hour=RETENTION_AT.hour, minute=RETENTION_AT.minute, timezone=CHINA_TZ)
    return Job("archive-retention", trigger, timedelta(days=2), run)


def search_alerts_job(settings: Settings, notifier: Notifier, on_close: list[Callable[[], None]]) -> Job:
    """The ``search-alerts`` job: fire the saved searches' alerts, then send each new firing once.

    The archive and the ledger are opened at the first run and kept (``on_close`` releases them); a
    missing embedded archive is not created (it has no post to count).
    """
    from dashboard.acks import AlertStore
    from dashboard.search_alerts import archive_counter, fire, notify_firings
    from response_ledger.unit_of_work import engine_from_settings
    from yuqing.backends import archive_exists, make_archive, make_saved_searches

    held: dict[str, Any] = {}

    def run(slot: datetime, now: datetime) -> Outcome:
        if "ledger" not in held:
            held["ledger"] = engine_from_settings(settings)  # migrated: the alerts table is the ledger's
        store = AlertStore(held["ledger"])
        if archive_exists(settings):
            if "archive" not in held:
                held["archive"] = make_archive(settings)
            fire(make_saved_searches(settings).all(), archive_counter(held["archive"]), store, now)
        sent = notify_firings(store, notifier, settings.alert_addresses, now)
        log.log(logging.INFO if sent else logging.DEBUG, "event=search-alerts-sent count=%d", len(sent))
        return Outcome.DONE

    def close() -> None:
        if "ledger" in held:
            held.pop("ledger").dispose()
        if "archive" in held:
            held.pop("archive").close()

    on_close.append(close)
    trigger = IntervalTrigger(
        minutes=int(SEARCH_ALERT_EVERY.total_seconds() // 60), start_date=REMINDER_ANCHOR, timezone=CHINA_TZ
    )
    return Job("search-alerts", trigger, 2 * SEARCH_ALERT_EVERY, run)


def apscheduler_for(schedule: Schedule, *, tick: timedelta = TICK) -> BackgroundScheduler:
    """An APScheduler background scheduler (not started) firing ``schedule``'s jobs.

    Each job fires at its own trigger's times; the ``pending`` job fires at once (catching up what
    was missed) and every ``tick``. One worker thread runs them in turn.
    """
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        timezone=CHINA_TZ, executors={"default": ThreadPoolExecutor(max_workers=1)}
    )
    # A late fire (the machine slept, the worker was busy) still runs, once.
    options: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    for name, job in schedule.jobs.items():
        scheduler.add_job(schedule.check, job.trigger, args=[name], id=name, name=name, **options)
    scheduler.add_job(
        schedule.check_all,
        IntervalTrigger(seconds=int(tick.total_seconds()), timezone=CHINA_TZ),
        id="pending",
        name="pending",
        next_run_time=_now(),
        **options,
    )
    return scheduler


def run_scheduler(schedule: Schedule, *, stop: threading.Event, tick: timedelta = TICK) -> int:
    """Run ``schedule`` on APScheduler until ``stop`` is set (SIGTERM); returns 0."""
    # APScheduler logs every run of every job at INFO (the pending job: each minute); ours say what ran.
    for name in ("apscheduler.scheduler", "apscheduler.executors"):
        logging.getLogger(name).setLevel(logging.WARNING)
    scheduler = apscheduler_for(schedule, tick=tick)
    schedule.beat()
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)  # a run in progress finishes (its file is written atomically)
        schedule.close()
    return 0
