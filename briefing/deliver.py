"""Sending a briefing through the ledger's notification channels (e-mail, 企业微信, 钉钉).

The channels of :mod:`response_ledger.notify` carry a :class:`~response_ledger.reminders.Notice`'s
subject and text; the briefing's notice carries its headline sentences and where the file is kept
(robots take text only, so the file itself stays in the briefings folder and on the dashboard).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from briefing import phrases
from briefing.model import Briefing
from response_ledger.reminders import Level, Notice, Notifier


def briefing_notice(b: Briefing, recipients: Sequence[str], stored: Path | None = None) -> Notice:
    """The notice announcing ``b`` to ``recipients``."""
    lines = [f"【{b.title}】{b.department} {b.period.label}", *phrases.headline_sentences(b)]
    if "ledger" in b.sections:
        lines.append(phrases.ledger_sentence(b.ledger))
    if b.decisions_total:
        lines.append(f"待领导决策事项 {b.decisions_total} 件，详见附件。")
    if stored is not None:
        lines.append(f"全文：{stored.name}（仪表盘“领导简报”页可下载）")
    return Notice(
        # A Notice is addressed like a ticket's: the briefing's own id and the department stand in.
        ticket_id=f"briefing:{b.period.kind}:{b.period.first_day.isoformat()}",
        unit=b.department,
        level=Level.LEADER,
        recipients=tuple(recipients),
        subject=f"{b.title}（{b.period.label}）",
        text="\n".join(lines),
    )


def send_briefing(notifier: Notifier, notice: Notice) -> bool:
    """Send ``notice`` when it has recipients; raises ``DeliveryError`` from the channels."""
    if not notice.recipients:
        return False
    notifier.send(notice)
    return True
