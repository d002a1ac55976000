"""Aggregations built on the port, so both archives give the same answer: top terms and top events.

Volume over time (:meth:`Archive.histogram`) and shares (:meth:`Archive.shares`) are native to each
backend. Top terms are counted here from the newest matching posts (a sample), because
Elasticsearch refuses a ``terms`` aggregation on analysed text and ``significant_text`` is missing
from noida-db (docs/archive-gaps.md); counting in Python gives both backends the same terms.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace

from archive.base import Archive, SearchQuery
from archive.errors import QueryError
from archive.tokens import tokenize
from core.messages import EnrichedPost

# Words that occur in most complaints and say nothing about them.
STOPWORDS = frozenset(
    [
        "我们",
        "你们",
        "他们",
        "自己",
        "这个",
        "那个",
        "什么",
        "怎么",
        "没有",
        "不是",
        "就是",
        "还是",
        "已经",
        "可以",
        "因为",
        "所以",
        "但是",
        "如果",
        "现在",
        "这些",
        "那些",
        "一个",
        "问题",
        "希望",
        "请问",
        "相关",
        "部门",
        "进行",
        "情况",
        "要求",
        "反映",
        "领导",
        "您好",
        "你好",
        "谢谢",
        "市民",
        "时候",
        "这样",
        "之后",
        "以及",
        "其中",
        "对于",
        "关于",
        "还有",
        "一直",
        "目前",
        "今天",
        "今年",
        "工作",
        "非常",
        "能够",
        "是否",
        "应该",
    ]
)


@dataclass(frozen=True)
class EventSummary:
    """One near-duplicate cluster: its id, how many matching posts it has, and its riskiest post."""

    event_id: str
    count: int
    top_post: EnrichedPost | None


def top_terms(
    archive: Archive,
    query: SearchQuery | None = None,
    *,
    size: int = 20,
    sample: int = 1000,
) -> dict[str, int]:
    """The commonest words among the newest ``sample`` matching posts: word -> posts containing it.

    Single characters, numbers and :data:`STOPWORDS` are skipped, and so are the query's own words.
    Largest first, ties by word.
    """
    if size < 1 or sample < 1:
        raise QueryError("热词数量和样本数量至少为 1")
    base = replace(query or SearchQuery(), sort="time", offset=0, after=None)
    asked = set(tokenize(base.text)) if base.text else set()
    counts: Counter[str] = Counter()
    for post in itertools.islice(archive.scan(base, batch=min(sample, 1000)), sample):
        words = tokenize(f"{post.get('title') or ''} {post.get('text') or ''}")
        counts.update({w for w in words if len(w) > 1 and not w.isdigit() and w not in STOPWORDS})
    for word in asked:
        counts.pop(word, None)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:size])


def top_events(archive: Archive, query: SearchQuery | None = None, *, size: int = 10) -> list[EventSummary]:
    """The ``size`` events with the most matching posts, each with its riskiest matching post."""
    base = query or SearchQuery()
    summaries = []
    for event_id, count in archive.shares("event", base, size=size).items():
        filters = {**base.filters, "event": event_id}
        top = archive.search(replace(base, filters=filters, sort="risk", size=1, offset=0, after=None))
        summaries.append(EventSummary(event_id, count, top.hits[0] if top.hits else None))
    return summaries
