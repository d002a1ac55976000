"""The briefing as a sequence of blocks (headings, paragraphs, tables, images) that renderers map.

Building the document once, here, keeps the Word, Markdown, HTML and on-screen versions saying the
same things in the same order. Every string in a block is plain, unescaped text: post titles and
texts are untrusted, and each renderer escapes for its own format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from briefing import phrases as p
from briefing.model import Briefing
from briefing.template import SECTIONS
from core.china_time import CHINA_TZ
from core.labels import source_label

# Columns whose cells are URLs; a renderer may make them links (http and https only).
LINK = "链接"
# The events section's heading when no event of the period has two posts: its riskiest posts instead.
TOP_POSTS_HEADING = "风险最高的帖子"


@dataclass(frozen=True)
class Heading:
    """A section heading; level 1 under the title."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells; ``name`` identifies it (for tests and the dashboard)."""

    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Image:
    """A chart with its caption; ``png`` None when the outline was built without drawing charts
    (the dashboard draws its own from the briefing's data)."""

    name: str
    png: bytes | None
    caption: str


Block = Heading | Paragraph | Table | Image


@dataclass(frozen=True)
class Masthead:
    """The 版头 of a printed briefing (GB/T 9704-2012): 期号, 编发单位, 签发人 and the date issued."""

    issue: str
    issuer: str
    signer: str
    issued: str  # 2026年3月6日
    heading: str  # the title under the 版头: 2026年03月05日舆情日报


@dataclass(frozen=True)
class Outline:
    """Title lines and the blocks below them."""

    header: str
    title: str
    subtitle: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    masthead: Masthead | None = None


def build_outline(b: Briefing, charts: Mapping[str, bytes] | None = None) -> Outline:
    """The document for ``b``; ``charts`` maps ``volume``/``topics`` to PNG bytes.

    With ``charts`` None the chart blocks are still there, without images, for a caller that draws
    them itself.
    """
    blocks: list[Block] = []
    numbered = [s for s in b.sections if s != "decisions"]
    for section in b.sections:
        if section == "decisions":
            blocks.append(Heading(f"附件：{section_title(b, section)}"))
        else:
            blocks.append(
                Heading(f"{p.section_number(numbered.index(section))}、{section_title(b, section)}")
            )
        blocks.extend(_SECTION_BUILDERS[section](b, charts))
    subtitle = f"{b.department}　{b.period.label}　（生成时间：{p.moment(b.generated_at)}）"
    day = b.generated_at.astimezone(CHINA_TZ).date()
    masthead = Masthead(
        b.issue,
        b.issuer or b.department,
        b.signer,
        f"{day.year}年{day.month}月{day.day}日",
        f"{b.period.label}{b.title}",
    )
    return Outline(b.header, b.title, subtitle, tuple(blocks), masthead)


def section_title(b: Briefing, section: str) -> str:
    """A section's heading: its name, but 风险最高的帖子 where the events section lists single posts."""
    if section == "events" and not b.events and b.top_posts:
        return TOP_POSTS_HEADING
    return SECTIONS[section]


def _headline(b: Briefing, _: Mapping[str, bytes] | None) -> list[Block]:
    blocks: list[Block] = [Paragraph(text) for text in p.headline_sentences(b)]
    h = b.headline
    if not b.empty or h.total.previous:
        rows = [
            (source_label(code), str(c.current), str(c.previous), p.signed(c.delta))
            for code, c in h.by_source
        ]
        rows.append(("合计", str(h.total.current), str(h.total.previous), p.signed(h.total.delta)))
        blocks.append(Table("sources", ("来源", "本期", "上期", "变化"), tuple(rows)))
    return blocks


def _charts(b: Briefing, charts: Mapping[str, bytes] | None) -> list[Block]:
    if b.empty:
        return [Paragraph(p.EMPTY_PERIOD)]
    step = "每小时" if b.period.kind == "day" else "每日"
    wanted = [("volume", f"图1　{step}声量（条）"), ("topics", "图2　话题分布（条）")]
    if charts is None:
        return [Image(name, None, caption) for name, caption in wanted]
    return [Image(name, charts[name], caption) for name, caption in wanted if name in charts]


def _events(b: Briefing, _: Mapping[str, bytes] | None) -> list[Block]:
    if b.empty:
        return [Paragraph(p.EMPTY_PERIOD)]
    if not b.events:
        return _top_posts(b)
    rows = []
    for number, event in enumerate(b.events, start=1):
        titles = "\n".join(f"《{post.title}》{post.excerpt}" for post in event.posts) or p.DASH
        sources = "\n".join(f"{source_label(post.source)}·{post.channel}" for post in event.posts) or p.DASH
        # One line per post, as in 代表帖子: the Word file links each title to its line here.
        links = "\n".join(post.url or p.DASH for post in event.posts) or p.DASH
        share = p.percent(event.negative, event.volume)
        rows.append((str(number), titles, str(event.volume), f"{event.negative}（{share}）", sources, links))
    intro = Paragraph(
        f"本期帖子最多的 {len(rows)} 个事件（两条及以上相似帖子聚成一个事件）如下，代表帖子按风险分由高到低。"
    )
    headers = ("序号", "代表帖子", "帖子数", "负面帖子", "来源", LINK)
    return [intro, Table("events", headers, tuple(rows))]


def _top_posts(b: Briefing) -> list[Block]:
    """No event of two posts or more: say so, and list the riskiest posts, each as a post."""
    if not b.top_posts:
        return [Paragraph(p.NO_EVENTS)]
    intro = Paragraph(f"{p.NO_EVENTS}以下列出风险分最高的 {len(b.top_posts)} 条帖子。")
    rows = tuple(
        (
            str(number),
            str(post.risk),
            p.moment(post.published_at),
            f"{source_label(post.source)}·{post.channel}",
            f"《{post.title}》{post.excerpt}",
            post.topic or p.DASH,
            post.url or p.DASH,
        )
        for number, post in enumerate(b.top_posts, start=1)
    )
    headers = ("序号", "风险分", "发布时间", "来源", "标题", "话题", LINK)
    return [intro, Table("top_posts", headers, rows)]


def _spikes(b: Briefing, _: Mapping[str, bytes] | None) -> list[Block]:
    if b.empty:
        return [Paragraph(p.EMPTY_PERIOD)]
    if not b.spikes:
        return [Paragraph("本期各话题未出现声量突增。")]
    blocks: list[Block] = []
    for spike in b.spikes:
        blocks.append(Paragraph(p.spike_sentence(spike)))
        if spike.posts:
            blocks.append(Paragraph("代表帖子：" + "；".join(f"《{post.title}》" for post in spike.posts)))
    return blocks


def _risks(b: Briefing, _: Mapping[str, bytes] | None) -> list[Block]:
    if b.empty:
        return [Paragraph(p.EMPTY_PERIOD)]
    r = b.risks
    if not r.count:
        return [Paragraph(f"本期无风险分达到 {r.threshold} 分的帖子。")]
    intro = f"本期风险分不低于 {r.threshold} 分的帖子 {r.count} 条，以下列出风险最高的 {len(r.posts)} 条。"
    rows = tuple(
        (
            str(post.risk),
            p.moment(post.published_at),
            source_label(post.source),
            post.title,
            "；".join(post.reasons) or p.DASH,
            post.url or p.DASH,
        )
        for post in r.posts
    )
    return [Paragraph(intro), Table("risks", ("风险分", "发布时间", "来源", "标题", "风险原因", LINK), rows)]


def _topics(b: Briefing, _: Mapping[str, bytes] | None) -> list[Block]:
    if b.empty and not b.topic_moves:
        return [Paragraph(p.EMPTY_PERIOD)]
    if not b.topic_moves:
        return [Paragraph("各话题帖子数与上期相同。")]
    rows = tuple(
        (move.topic, str(move.change.current), str(move.change.previous), p.signed(move.change.delta))
        for move in b.topic_moves
    )
    intro = Paragraph(f"与上期相比变化最大的 {len(rows)} 个话题：")
    return [intro, Table("topics", ("话题", "本期", "上期", "变化"), rows)]


def _ledger(b: Briefing, _: Mapping[str, bytes] | None) -> list[Block]:
    blocks: list[Block] = [Paragraph(p.ledger_sentence(b.ledger))]
    if b.ledger is None or not b.ledger.units:
        return blocks
    rows = tuple(
        (row.unit, str(row.opened), str(row.closed), str(row.overdue), p.rate(row.response_rate),
         p.rate(row.on_time_close_rate))
        for row in (*b.ledger.units, b.ledger.total)
    )  # fmt: skip
    headers = ("责任单位", "新增", "办结", "超期未办结", "响应率", "按时办结率")
    blocks.append(Table("ledger", headers, rows))
    return blocks


def _decisions(b: Briefing, _: Mapping[str, bytes] | None) -> list[Block]:
    blocks: list[Block] = [Paragraph(p.decisions_sentence(b))]
    if b.decisions:
        rows = tuple(
            (d.ticket_id, d.unit, d.status, d.reason, d.summary, p.moment(d.due_at)) for d in b.decisions
        )
        headers = ("工单编号", "责任单位", "当前状态", "待决事项", "摘要", "办理时限")
        blocks.append(Table("decisions", headers, rows))
    return blocks


_SECTION_BUILDERS = {
    "headline": _headline,
    "charts": _charts,
    "events": _events,
    "spikes": _spikes,
    "risks": _risks,
    "topics": _topics,
    "ledger": _ledger,
    "decisions": _decisions,
}
