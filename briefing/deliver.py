"""Sending a briefing through the ledger's notification channels (e-mail, 企业微信, 钉钉).

The channels of :mod:`response_ledger.notify` carry a :class:`~response_ledger.reminders.Notice`'s
subject and text; the briefing's notice carries its headline sentences and where the file is kept,
and the file itself as its attachment: 企业微信 robots send it as a file message, e-mail attaches it,
钉钉 robots (which cannot carry files) name it.
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
        attachment=stored,
    )


def send_briefing(notifier: Notifier, notice: Notice) -> bool:
    """Send ``notice`` when it has recipients; raises ``DeliveryError`` from the channels."""
    if not notice.recipients:
        return False
    notifier.send(notice)
    return True
