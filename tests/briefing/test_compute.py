"""A briefing over the fixed data set carries exactly the numbers computed here from the same lists."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from archive.embedded import EmbeddedArchive
from briefing.compute import compute_briefing
from briefing.period import period_of
from briefing.phrases import headline_sentences, ledger_sentence
from core.messages import EnrichedPost
from tests.briefing.samples import DAY, MIDNIGHT, NOW, at, posts, published, ticket, tickets, write_tickets

START, END = MIDNIGHT, MIDNIGHT + timedelta(days=1)
PREV_START = MIDNIGHT - timedelta(days=1)


def _in(post: EnrichedPost, start: datetime, end: datetime) -> bool:
    return start <= published(post) < end


def _day(start: datetime) -> list[EnrichedPost]:
    return [p for p in posts() if _in(p, start, start + timedelta(days=1))]


def test_headline_counts_match_the_posts(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    now, before = _day(START), _day(PREV_START)
    h = b.headline
    assert (h.total.current, h.total.previous) == (len(now), len(before))
    expected_sources = {
        code: (sum(p["source"] == code for p in now), sum(p["source"] == code for p in before))
        for code in {p["source"] for p in now + before}
    }
    assert {code: (c.current, c.previous) for code, c in h.by_source} == expected_sources
    assert (h.negative.current, h.negative.previous) == (
        sum(p["sentiment"]["label"] == "negative" for p in now),
        sum(p["sentiment"]["label"] == "negative" for p in before),
    )
    assert (h.in_remit.current, h.in_remit.previous) == (
        sum(p["topic"]["in_remit"] for p in now),
        sum(p["topic"]["in_remit"] for p in before),
    )
    first, second = headline_sentences(b)
    assert f"共监测到舆情信息 {len(now)} 条" in first
    negative = sum(p["sentiment"]["label"] == "negative" for p in now)
    assert f"负面信息 {negative} 条，占 {negative / len(now):.1%}" in second


def test_volume_topics_and_moves_match(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    now, before = _day(START), _day(PREV_START)
    hours = Counter(published(p).hour for p in now)
    assert len(b.volume) == 24
    assert [count for _, count in b.volume] == [hours.get(h, 0) for h in range(24)]
    assert dict(b.topics) == Counter(p["topic"]["label"] for p in now)
    current, previous = (
        Counter(p["topic"]["label"] for p in now),
        Counter(p["topic"]["label"] for p in before),
    )
    deltas = {t: current[t] - previous[t] for t in set(current) | set(previous) if current[t] != previous[t]}
    assert {m.topic: m.change.delta for m in b.topic_moves} == dict(
        sorted(deltas.items(), key=lambda kv: -abs(kv[1]))[:5]
    )


def test_events_risks_and_spikes_match(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    now = _day(START)
    events = Counter(p["event_id"] for p in now)
    top = [b.events[0].event_id, b.events[1].event_id]
    assert top == ["ev-noise", "ev-wage"]
    for item in b.events:
        members = [p for p in now if p["event_id"] == item.event_id]
        assert item.volume == events[item.event_id] == len(members)
        assert item.negative == sum(p["sentiment"]["label"] == "negative" for p in members)
        assert [post.risk for post in item.posts] == sorted(
            (p["risk"]["score"] for p in members), reverse=True
        )[:2]
        assert all(post.url.startswith("https://example.gov.cn/") for post in item.posts)
    risky = sorted((p for p in now if p["risk"]["score"] >= 80), key=lambda p: -p["risk"]["score"])
    assert b.risks.count == len(risky)
    assert [post.post_id for post in b.risks.posts] == [p["id"] for p in risky]
    # Eight 环境保护 posts in the 10 o'clock hour after a quiet week: the one spike.
    assert [(s.topic, s.hour, s.count) for s in b.spikes] == [("环境保护", START + timedelta(hours=10), 8)]
    spike = b.spikes[0]
    hour = [p for p in now if p["topic"]["label"] == "环境保护" and published(p).hour == 10]
    assert dict(spike.sources) == Counter(p["source"] for p in hour)
    assert (spike.day_ago, spike.week_ago, spike.baseline_mean) == (0, 0, 0.0)


def _met(row: dict[str, Any]) -> datetime | None:
    """When the ticket was first answered (or, without an answer, closed)."""
    return row["answered_at"] or row["closed_at"]


def _expected_ledger(
    rows: list[dict[str, Any]], as_of: datetime
) -> dict[str, tuple[int, int, int, float | None, float | None]]:
    units: dict[str, tuple[int, int, int, float | None, float | None]] = {}
    for unit in {row["unit"] for row in rows}:
        mine = [row for row in rows if row["unit"] == unit]
        opened = [row for row in mine if START <= row["opened_at"] < END]
        closed = [row for row in mine if row["closed_at"] and START <= row["closed_at"] < END]
        # 超期未办结: past the 办理时限 at ``as_of`` without an answer by it (an answer in time is never
        # overdue: response_ledger.timeliness), and not closed by ``as_of``.
        overdue = [
            row for row in mine
            if row["opened_at"] < as_of and row["due_at"] and row["due_at"] < as_of
            and not (_met(row) and _met(row) <= row["due_at"])
            and (row["closed_at"] is None or row["closed_at"] > as_of)
        ]  # fmt: skip
        responded = [
            row for row in opened
            if row["answered_at"] and row["answered_at"] <= (row["respond_due_at"] or row["due_at"])
        ]  # fmt: skip
        # 按时办结: closed, and answered by the 办理时限 (or without one).
        on_time = [
            row for row in opened
            if row["closed_at"] and (row["due_at"] is None or _met(row) <= row["due_at"])
        ]  # fmt: skip
        if opened or closed or overdue:
            rates = [len(part) / len(opened) if opened else None for part in (responded, on_time)]
            units[unit] = (len(opened), len(closed), len(overdue), rates[0], rates[1])
    return units


def test_ledger_figures_match_the_tickets(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    assert b.ledger is not None
    assert b.ledger.as_of == END  # the next morning: judged at the day's end
    expected = _expected_ledger(tickets(), END)
    shown = {
        row.unit: (row.opened, row.closed, row.overdue, row.response_rate, row.on_time_close_rate)
        for row in b.ledger.units
    }
    assert shown == expected
    total = b.ledger.total
    opened = sum(v[0] for v in expected.values())
    assert (total.opened, total.closed, total.overdue) == (
        opened,
        sum(v[1] for v in expected.values()),
        sum(v[2] for v in expected.values()),
    )
    responded = sum(round((v[3] or 0) * v[0]) for v in expected.values())
    assert total.response_rate == responded / opened
    sentence = ledger_sentence(b.ledger)
    assert f"新增工单 {opened} 件" in sentence and f"超期未办结 {total.overdue} 件" in sentence


def test_a_ticket_answered_in_time_is_not_overdue_while_unclosed_and_one_answered_late_is(
    archive: EmbeddedArchive, ledger: Engine
) -> None:
    unit = "区住房和城乡建设局"
    extra = [
        ticket("T11", unit, at(-5, 9), "已答复", due=at(-1, 0), answered=at(-2, 0)),
        ticket("T12", unit, at(-5, 9), "已答复", due=at(-1, 0), answered=at(0, 3)),
    ]
    before = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW).ledger
    write_tickets(ledger, extra)
    after = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW).ledger
    assert before is not None and after is not None
    overdue = {row.unit: row.overdue for row in after.units}
    assert overdue[unit] == {row.unit: row.overdue for row in before.units}[unit] + 1  # T12 only
    assert overdue[unit] == _expected_ledger([*tickets(), *extra], END)[unit][2]


def test_leader_appendix_lists_extensions_and_open_escalations(
    archive: EmbeddedArchive, ledger: Engine
) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    waiting = [
        row for row in tickets()
        if row["status"] == "延期审核中" or (row["escalations"] and row["status"] != "已办结")
    ]  # fmt: skip
    assert b.decisions_total == len(waiting)
    assert {d.ticket_id for d in b.decisions} == {row["id"] for row in waiting}
    by_id = {d.ticket_id: d for d in b.decisions}
    assert by_id["T6"].reason == "申请延期，待审批"
    assert by_id["T4"].reason == "已督办1次，尚未办结"


def test_a_week_and_a_month_cover_their_days(archive: EmbeddedArchive, ledger: Engine) -> None:
    week = compute_briefing(archive, ledger, period_of(DAY, "week"), now=NOW)
    start = MIDNIGHT - timedelta(days=DAY.weekday())
    inside = [p for p in posts() if _in(p, start, start + timedelta(days=7))]
    assert week.headline.total.current == len(inside)
    assert len(week.volume) == 7
    month = compute_briefing(archive, None, period_of(DAY, "month"), now=NOW)
    assert month.headline.total.current == sum(published(p).month == 3 for p in posts())
    assert month.ledger is None and month.decisions == ()


def test_a_period_without_posts_is_empty_and_says_so(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY + timedelta(days=30), "day"), now=NOW)
    assert b.empty and b.volume == () and b.events == () and b.spikes == () and b.risks.count == 0
    assert headline_sentences(b) == ["本期无舆情数据。"]


def test_an_event_is_a_cluster_of_two_posts_or_more(archive: EmbeddedArchive, ledger: Engine) -> None:
    b = compute_briefing(archive, ledger, period_of(DAY, "day"), now=NOW)
    # ev-c3, ev-c4 and ev-c5 hold one post each that day: posts, not events.
    assert [(e.event_id, e.volume) for e in b.events] == [("ev-noise", 8), ("ev-wage", 2)]
    assert b.top_posts == ()


def test_without_a_cluster_the_riskiest_posts_stand_in_the_events_place_under_their_own_name(
    tmp_path: Path,
) -> None:
    from briefing.outline import TOP_POSTS_HEADING, Heading, Paragraph, Table, build_outline
    from briefing.render import render

    alone = []
    for number, post in enumerate(posts()):
        post["event_id"] = f"ev-alone-{number}"
        alone.append(post)
    store = EmbeddedArchive(tmp_path / "alone" / "archive.db")
    store.index(alone)
    try:
        b = compute_briefing(store, None, period_of(DAY, "day"), now=NOW)
    finally:
        store.close()
    day = sorted(_day(START), key=lambda p: -p["risk"]["score"])
    assert b.events == ()
    assert [post.risk for post in b.top_posts] == [p["risk"]["score"] for p in day[:5]]
    assert [post.post_id for post in b.top_posts[:3]] == [p["id"] for p in day[:3]]  # 92, 85, 81
    blocks = build_outline(b).blocks
    headings = [block.text for block in blocks if isinstance(block, Heading)]
    assert f"三、{TOP_POSTS_HEADING}" in headings and not any("重点事件" in h for h in headings)
    after = [block for block in blocks if not isinstance(block, Heading)]
    assert any(isinstance(block, Paragraph) and "没有两条及以上相似帖子" in block.text for block in after)
    table = next(block for block in blocks if isinstance(block, Table) and block.name == "top_posts")
    assert [row[1] for row in table.rows] == [str(p["risk"]["score"]) for p in day[:5]]
    # The Word file says the same under the same heading, each title a link to its post.
    from docx import Document

    document = Document(io.BytesIO(render(b, ".docx", charts={})))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert f"三、{TOP_POSTS_HEADING}" in texts
    linked = next(
        t
        for t in document.tables
        if t.rows[0].cells[0].text == "序号" and t.rows[0].cells[1].text == "风险分"
    )
    assert "w:hyperlink" in linked.rows[1].cells[4]._tc.xml
