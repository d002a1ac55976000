"""What the 回应台账 and 系统管理 pages show of the ledger — pure functions with ``now`` passed in.

Who may do what to a ticket, countdowns and overdue markers, masking of personal data, and the
tables the pages draw. Every cell is plain text for ``st.dataframe`` or ``st.text``, never markdown:
summaries, post text, comments and unit names may all come from the public.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from classifiers.risk import ALERT_RISK
from core.china_time import china_time, parse_time
from core.masking import mask_text
from core.messages import EnrichedPost
from dashboard.auth import SEES_PERSONAL_DATA, Role, User
from dashboard.labels import EMPTY, SENTIMENT_LABELS, SOURCE_LABELS, TICKET_SOURCE_LABELS, label
from dashboard.tables import own_page
from response_ledger.calendar import HolidayEntry
from response_ledger.deadlines import Rule, RuleKind
from response_ledger.errors import RuleError

# Re-exported (`as`): the pages and tests import the flags from here.
from response_ledger.markers import (
    CLOSED as CLOSED,
)
from response_ledger.markers import (
    DUE_SOON_MARK as DUE_SOON_MARK,
)
from response_ledger.markers import (
    OVERDUE as OVERDUE,
)
from response_ledger.markers import (
    PAUSED as PAUSED,
)
from response_ledger.markers import (
    STAGE_LATE as STAGE_LATE,
)
from response_ledger.markers import (
    marker as marker,
)
from response_ledger.model import APPEALS, Event, Ticket
from response_ledger.policy import Policy
from response_ledger.timeliness import DUE_SOON_FRACTION, Clock, current_stage, is_overdue, met_at, overdue_by
from response_ledger.workflow import ACTION_LABELS, Action, TicketStatus, target_of

TIME_FORMAT = "%Y-%m-%d %H:%M"
# The flags (已超期, 签收超时, 即将到期 …) are response_ledger.markers': the exported 台账 uses them too.

# Which steps each role takes from this page; the transition table then decides which of them the
# ticket's status allows. Staff work their unit's tickets; the duty officer dispatches (改派), chases
# (督办) and calls back (回访, 重办); both correct the classifier where it was wrong (更正主题, and
# 更正研判 for sentiment, appeal type and urgency: training data for the models); a leader decides
# extensions and chases; an admin may do any step.
# 提醒 and 并单 are the system's own steps (reminders, intake) and are never offered.
STAFF_ACTIONS = (
    Action.SIGN, Action.RESPOND, Action.REQUEST_EXTENSION, Action.PAUSE, Action.RESUME, Action.CLOSE,
    Action.RETURN, Action.CORRECT_TOPIC, Action.CORRECT_JUDGEMENT,
)  # fmt: skip
DUTY_ACTIONS = (
    Action.REASSIGN, Action.ESCALATE, Action.FOLLOW_UP, Action.REOPEN, Action.CORRECT_TOPIC,
    Action.CORRECT_JUDGEMENT,
)  # fmt: skip
LEADER_ACTIONS = (Action.APPROVE_EXTENSION, Action.REJECT_EXTENSION, Action.ESCALATE)
ROLE_ACTIONS: dict[Role, tuple[Action, ...]] = {
    Role.STAFF: STAFF_ACTIONS,
    Role.DUTY: DUTY_ACTIONS,
    Role.LEADER: LEADER_ACTIONS,
    Role.ADMIN: tuple(dict.fromkeys((*STAFF_ACTIONS, *DUTY_ACTIONS, *LEADER_ACTIONS))),
    Role.ANALYST: (),
}

LIST_COLUMNS = (
    "标记",
    "工单编号",
    "当前状态",
    "剩余时间",
    "办理时限",
    "当前环节",
    "督办",
    "摘要",
    "责任单位",
    "来源",
    "发现时间",
)
POST_COLUMNS = ("发布时间", "来源", "渠道", "标题", "正文", "自动判定主题", "链接")
EVENT_COLUMNS = ("序号", "时间", "操作", "办理人", "说明", "附加信息")
HOLIDAY_COLUMNS = ("日期", "星期", "类型", "名称")
WEEKDAYS = "一二三四五六日"
# The dashboard's own names for the archive's sources, plus the ledger's own two (ledger_book's
# labels are the office layout's; importing them would load openpyxl with every page).


# Why a ticket's clock started when it did, by where the ticket came from (see response_ledger.intake).
CLOCK_REASONS = {
    "hotline": "12345 平台受理时间（工单发布时间）",
    "board": "留言发布时间",
    "weibo": "发现时间（采集到帖子的时间）",
    "news": "发现时间（采集到帖子的时间）",
    "manual": "人工登记时间",
    "import": "原台账登记时间",
}


def clock_start(ticket: Ticket) -> str:
    """Where the ticket's clock started and why: the moment, then the reason in words.

    The reason recorded at opening (``clock`` in the 立单 event's data) wins; older tickets are
    explained by their source, as intake chose their start.
    """
    opening = ticket.events[0] if ticket.events else None
    recorded = opening.data.get("clock") if opening is not None else None
    reason = str(recorded) if recorded else CLOCK_REASONS.get(ticket.source, "立单时间")
    return f"{shown_time(ticket.opened_at)}（{reason}）"


def scope_unit(user: User, picked: str | None) -> str | None:
    """The unit whose tickets ``user`` sees: staff always their own, others the one they picked."""
    return user.unit if user.role is Role.STAFF else picked


def may_handle(user: User, ticket_unit: str) -> bool:
    """Whether ``user`` may see and act on a ticket of ``ticket_unit`` (staff: their unit's only)."""
    return user.role is not Role.STAFF or (user.unit is not None and user.unit == ticket_unit)


def allowed_actions(role: Role, status: TicketStatus) -> list[Action]:
    """The steps ``role`` may take on a ticket in ``status``, in the role's order."""
    return [action for action in ROLE_ACTIONS.get(role, ()) if target_of(action, status) is not None]


def topic_choices() -> list[str]:
    """What a topic may be corrected to: the remit's topics, then out of remit (其他)."""
    from classifiers.taxonomy import load_taxonomy
    from classifiers.topic import OUT_OF_REMIT

    return [*(t.label for t in load_taxonomy().topics), OUT_OF_REMIT]


def unit_choices(policy: Policy, *also: str) -> list[str]:
    """The units a ticket may be given: ``also`` (the proposed one first), then each remit topic's unit
    in the taxonomy's order, then the policy's dispatcher; each once.

    A unit chosen from this list is one the office configured, never a name typed on the form. An
    unreadable taxonomy (shown on 系统管理) leaves ``also`` and the dispatcher.
    """
    from classifiers.errors import TaxonomyError
    from classifiers.taxonomy import load_taxonomy

    units = [unit for unit in also if unit]
    with contextlib.suppress(TaxonomyError):
        units += [topic.unit for topic in load_taxonomy().topics]
    units.append(policy.intake.default_unit)
    return list(dict.fromkeys(units))


def corrected_topic(events: Sequence[Event]) -> str | None:
    """The topic staff last corrected the ticket to, if anyone did."""
    return next((str(e.data["topic"]) for e in reversed(events) if e.action is Action.CORRECT_TOPIC), None)


# 更正研判's boxes: the judgement (its key in the event's data, as the ledger names it), the box's
# label, and each value the ledger accepts with the words staff read.
URGENCY_LABELS = {"yes": "紧急", "no": "不紧急"}
JUDGEMENT_BOXES: tuple[tuple[str, str, Mapping[str, str]], ...] = (
    ("sentiment", "情感", SENTIMENT_LABELS),
    ("appeal", "诉求类型", {appeal: appeal for appeal in APPEALS}),
    ("urgency", "是否紧急", URGENCY_LABELS),
)


def classifier_judgement(post: EnrichedPost | None) -> dict[str, str]:
    """What the classifier said of ``post`` for each 更正研判 box, in words; nothing without a post.

    Urgent is a risk at the alert level (the letter models map their urgency onto risk there).
    """
    if post is None:
        return {}
    said: dict[str, str] = {}
    sentiment = (post.get("sentiment") or {}).get("label")
    if sentiment in SENTIMENT_LABELS:
        said["sentiment"] = SENTIMENT_LABELS[sentiment]
    if post.get("appeal_type") in APPEALS:  # only the known words: help text is markdown
        said["appeal"] = str(post.get("appeal_type"))
    score = (post.get("risk") or {}).get("score")
    if isinstance(score, int | float):
        said["urgency"] = f"{URGENCY_LABELS['yes' if score >= ALERT_RISK else 'no']}（风险 {score:g}）"
    return said


def corrected_judgements(events: Sequence[Event]) -> dict[str, str]:
    """What staff last corrected each judgement to (更正研判), in words, for those anyone corrected."""
    out: dict[str, str] = {}
    for event in events:
        if event.action is Action.CORRECT_JUDGEMENT:
            for key, _, options in JUDGEMENT_BOXES:
                if isinstance(value := event.data.get(key), str) and value in options:
                    out[key] = options[value]
    return out


def shows_personal_data(role: Role) -> bool:
    """Whether ``role`` sees phone and ID numbers in full (everyone else sees them masked)."""
    return role in SEES_PERSONAL_DATA


def masked(text: str | None, mask: bool) -> str:
    """``text`` with mobile and ID numbers masked when ``mask``; ``—`` for nothing."""
    if not text:
        return EMPTY
    return mask_text(text) if mask else text


def shown_time(moment: datetime | None) -> str:
    """A moment as China time text, ``—`` for none."""
    return EMPTY if moment is None else china_time(moment).strftime(TIME_FORMAT)


def countdown(due: datetime | None, now: datetime) -> str:
    """Time left to ``due`` as staff say it: ``剩余 1天3小时``, ``已超期 5小时``, ``暂停计时``."""
    if due is None:
        return "暂停计时"
    left = due - now
    words = _span(abs(left))
    return f"剩余 {words}" if left >= timedelta(0) else f"已超期 {words}"


def time_left(clock: Clock, now: datetime) -> str:
    """剩余时间 to the 办理时限 until the ticket is answered; then whether the answer came in time.

    Overdue is :func:`response_ledger.timeliness.is_overdue`: a ticket answered in time is not
    overdue while it waits to be closed (``已按时答复``); one answered late says by how much
    (``超期答复 2天``).
    """
    if clock.status == TicketStatus.CLOSED.value:
        return "已办结"
    met = met_at(clock)
    if met is None or met > now:
        return countdown(clock.due_at, now)
    if is_overdue(clock, now):
        return f"超期答复 {_span(overdue_by(clock, now))}"
    return "已按时答复"


def _span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    return f"{max(minutes, 1)}分钟"


def ticket_table(
    rows: Sequence[Mapping[str, Any]],
    now: datetime,
    *,
    mask: bool,
    due_soon_fraction: float = DUE_SOON_FRACTION,
) -> pd.DataFrame:
    """The list of tickets, in the given order, one plain-text row each.

    A row has the :data:`response_ledger.timeliness.CLOCK_FIELDS` (``queries.ticket_page`` reads
    them); ``due_soon_fraction`` is the policy's.
    """
    out = []
    for row in rows:
        clock = Clock.of_row(row)
        stage = current_stage(clock)
        due = shown_time(row["due_at"]) + ("（暂定）" if row["provisional"] and row["due_at"] else "")
        out.append(
            (
                marker(row, now, due_soon_fraction),
                row["id"],
                row["status"],
                time_left(clock, now),
                due if row["due_at"] is not None else "暂停计时",
                EMPTY if stage is None else f"{stage.name}：{countdown(stage.due, now)}",
                f"{row['escalations']} 次" if row.get("escalations") else EMPTY,
                masked(row["summary"], mask),
                row["unit"],
                label(TICKET_SOURCE_LABELS, row["source"]),
                shown_time(row["found_at"]),
            )
        )
    return pd.DataFrame(out, columns=list(LIST_COLUMNS))


def highlight_overdue(table: pd.DataFrame) -> Any:
    """A Styler that paints overdue rows red and stage-late rows amber (the marker says it in words too)."""
    overdue = "background-color: #fde2e1; color: #a61b1b"
    late = "background-color: #fff3d6; color: #7a4a00"

    def paint(row: pd.Series) -> list[str]:
        style = overdue if row["标记"] == OVERDUE else late if row["标记"] in STAGE_LATE.values() else ""
        return [style] * len(row)

    return table.style.apply(paint, axis=1)


def posts_table(posts: Iterable[EnrichedPost], *, mask: bool) -> pd.DataFrame:
    """The posts on a ticket, oldest first, their text as plain cells."""
    rows = [
        (
            shown_time(parse_time(post["published_at"])) if post.get("published_at") else EMPTY,
            label(SOURCE_LABELS, post.get("source")),
            post.get("channel") or EMPTY,
            masked(post.get("title"), mask),
            masked(post.get("text"), mask),
            # What the classifier said: staff correct it with 更正主题 when it is wrong.
            (post.get("topic") or {}).get("label") or EMPTY,
            own_page(post) or EMPTY,
        )
        for post in posts
    ]
    return pd.DataFrame(sorted(rows, key=lambda r: r[0]), columns=list(POST_COLUMNS))


_DATA_LABELS = {
    "unit": "改派至",
    "from_unit": "原单位",
    "amount": "时长",
    "satisfaction": "满意度",
    "post_id": "帖子",
    "topic": "更正为",
    "proposed_unit": "系统建议单位",
    "proposed_class": "系统建议类别",
    "sentiment": "情感",
    "appeal": "诉求类型",
    "urgency": "紧急",
}
# How a value of the event data reads in the history, where its code is not what staff say.
_DATA_VALUES: dict[str, Any] = {
    "amount": lambda value: rule_text(value),  # defined below
    "sentiment": lambda value: label(SENTIMENT_LABELS, value),
    "urgency": lambda value: {"yes": "是", "no": "否"}.get(value, value),
}


def events_table(events: Sequence[Event], *, mask: bool) -> pd.DataFrame:
    """A ticket's whole history, in order: who did what, when, and what they wrote."""
    rows = []
    for event in events:
        extra = "；".join(
            f"{name}：{_DATA_VALUES[key](value) if key in _DATA_VALUES else value}"
            for key, name in _DATA_LABELS.items()
            if (value := event.data.get(key)) and not (key == "post_id" and event.action is Action.OPEN)
        )
        rows.append(
            (
                event.seq,
                shown_time(event.at),
                ACTION_LABELS.get(event.action, event.action.value),
                event.actor,
                masked(event.comment, mask),
                extra or EMPTY,
            )
        )
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


_KIND_WORDS = {
    RuleKind.HOURS: "{}小时",
    RuleKind.WORKDAYS: "{}个工作日",
    RuleKind.DAYS: "{}日",
    RuleKind.MONTHS: "{}个月",
}


def rule_text(rule: Rule | str | None) -> str:
    """A limit as staff read it: ``hours:48`` → ``48小时``, ``workdays:20`` → ``20个工作日``."""
    if rule is None:
        return EMPTY
    if isinstance(rule, str):
        try:
            parsed = Rule.parse(rule)
        except RuleError:
            return rule
    else:
        parsed = rule
    return _KIND_WORDS[parsed.kind].format(parsed.amount)


def kind_word(rule: Rule) -> str:
    """The counting unit of ``rule`` in words: 小时, 个工作日, 日 or 个月."""
    return _KIND_WORDS[rule.kind].format("")


def policy_table(policy: Policy) -> pd.DataFrame:
    """One row per ticket class with its limits in words."""
    rows = [
        (
            item.title,
            name,
            rule_text(item.limits.sign),
            rule_text(item.limits.respond),
            rule_text(item.limits.close),
            rule_text(item.limits.max_extension) if item.limits.max_extension else "不允许延期",
        )
        for name, item in policy.classes.items()
    ]
    return pd.DataFrame(rows, columns=["类别", "代码", "签收时限", "答复时限", "办结时限", "最长延期"])


def intake_table(policy: Policy) -> pd.DataFrame:
    """How intake picks a class: which posts open which class of ticket."""
    titles = {name: item.title for name, item in policy.classes.items()}
    rules = policy.intake
    rows = [(f"12345 {kind}类工单", titles[name]) for kind, name in rules.hotline_classes.items()]
    rows += [
        ("12345 其他工单", titles[rules.hotline_default_class]),
        ("未回复的网站留言" if rules.board_unanswered else "网站留言（未启用）", titles[rules.board_class]),
        (f"职责内微博（风险 ≥ {rules.weibo_min_risk}）", titles[rules.opinion_class]),
        (f"职责内新闻（风险 ≥ {rules.news_min_risk}）", titles[rules.opinion_class]),
        (f"风险 ≥ {rules.major_incident_risk} 的舆情", titles[rules.major_class]),
        *([("表扬类诉求（无答复时限）", titles[rules.praise_class])] if rules.praise_class else []),
        ("无法确定责任单位时", f"交 {rules.default_unit}"),
    ]
    return pd.DataFrame(rows, columns=["来源及条件", "工单类别"])


def parse_day(text: str) -> date:
    """A day typed as ``YYYY-MM-DD``; a ``ValueError`` with a Chinese message otherwise."""
    value = text.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"日期“{value or '（空）'}”无法识别，请按 YYYY-MM-DD 填写，如 2027-01-01。"
        ) from None


def holiday_table(entries: Iterable[HolidayEntry]) -> pd.DataFrame:
    """The admin's holiday table, by day."""
    rows = [
        (
            entry.day.isoformat(),
            "星期" + WEEKDAYS[entry.day.weekday()],
            "调休上班" if entry.is_workday else "放假",
            entry.name or EMPTY,
        )
        for entry in entries
    ]
    return pd.DataFrame(rows, columns=list(HOLIDAY_COLUMNS))
