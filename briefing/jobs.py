"""One briefing run end to end: compute, write into the briefings folder, send the notice.

Used by ``yuqing briefing`` (one-off and scheduled) and testable without the command line: the
sources are opened per run through a callable, so a run after an archive outage opens afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from archive.base import Archive
from briefing.compute import compute_briefing
from briefing.deliver import briefing_notice, send_briefing
from briefing.model import Briefing
from briefing.render import write_briefing
from briefing.schedule import covered_period, file_name
from briefing.template import Template
from response_ledger.reminders import Notifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sources:
    """The archive and the ledger engine a run reads (``ledger`` None: no ledger configured)."""

    archive: Archive
    ledger: Engine | None


def scheduled_job(
    *,
    open_sources: Callable[[], AbstractContextManager[Sources]],
    directory: Path,
    template: Template,
    kind: str,
    notifier: Notifier,
    clock: Callable[[], datetime],
) -> Callable[[datetime], Path]:
    """The job a schedule calls with each slot: the briefing of the period before the slot."""

    def job(slot: datetime) -> Path:
        period = covered_period(slot, kind)
        with open_sources() as sources:
            b: Briefing = compute_briefing(
                sources.archive, sources.ledger, period, now=clock(), template=template
            )
        path = write_briefing(b, directory / file_name(period), pdf=True)
        sent = send_briefing(notifier, briefing_notice(b, template.recipients, path))
        log.info("event=briefing-written path=%s sent=%s", path, sent)
        return path

    return job
