"""Near-duplicate events: MinHash-LSH clustering of reposts, on our own examples and on real reposts."""

from __future__ import annotations

import csv

import numpy as np

from classifiers.events import Event, EventIndex, MinHasher, normalise_for_events
from tests.conftest import shared_data

AT = "2024-05-01T08:00:00+08:00"
STORY = "某小区电梯困人两小时，物业迟迟不到场，业主们在群里议论纷纷，要求物业公司给个说法"


def _assign(index: EventIndex, posts: list[tuple[str, str, str]]) -> list[Event]:
    """The event of each ``(post_id, text, published_at)``, as the enrichment assigns them."""
    return [event for event, _ in index.assign_many_counted(posts)]


def test_signatures_of_copies_agree_and_of_other_stories_do_not() -> None:
    hasher = MinHasher()
    same, edited, other = hasher.signatures(
        [STORY, STORY + "！！太气人了", "今年的樱花开得特别早，公园里游人如织"]
    )
    assert np.mean(same == edited) > 0.6
    assert np.mean(same == other) < 0.2


def test_signatures_are_stable_across_batches() -> None:
    hasher = MinHasher()
    alone = hasher.signatures([STORY])
    together = hasher.signatures(["短", STORY, "另一条完全不同的帖子内容"])
    assert (alone[0] == together[1]).all()


def test_reposts_and_edited_copies_join_the_first_posts_event_with_a_count() -> None:
    index = EventIndex()
    events = _assign(
        index,
        [
            ("a", STORY, AT),
            ("b", f"//@热心市民: {STORY} http://t.cn/abc", AT),
            ("c", "转发微博 " + STORY.replace("两小时", "2小时"), AT),
            ("d", "今年的樱花开得特别早，公园里游人如织，大家纷纷拍照留念", AT),
        ],
    )
    assert events[0].event_id == events[1].event_id == events[2].event_id != events[3].event_id
    story = index.event(events[0].event_id)
    assert story is not None and story.count == 3 and story.representative_id == "a"


def test_a_replayed_post_keeps_its_event_and_is_counted_once() -> None:
    index = EventIndex()
    first = _assign(index, [("a", STORY, AT)])[0].event_id
    again = _assign(index, [("a", STORY, AT)])[0]
    assert again.event_id == first and again.count == 1


def test_short_posts_match_only_exact_copies() -> None:
    index = EventIndex()
    one, two, three = _assign(index, [("a", "武汉加油！", AT), ("b", "武汉加油", AT), ("c", "中国加油", AT)])
    assert one.event_id == two.event_id != three.event_id


def test_the_index_forgets_its_oldest_posts_beyond_capacity() -> None:
    index = EventIndex(capacity=2)
    _assign(
        index,
        [
            ("a", STORY, AT),
            ("b", "今年的樱花开得特别早，公园里游人如织", AT),
            ("c", "地铁三号线今天早高峰故障停运半小时", AT),
        ],
    )
    assert len(index) == 2 and index.event_count == 2


def test_real_weibo_reposts_cluster_into_their_stories() -> None:
    path = shared_data("stream/weibo_2020_10k.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(r["weibo_id"], r["text"] or "", r["post_time"]) for r in csv.DictReader(handle)]
    index = EventIndex()
    events = {
        post_id: event.event_id for (post_id, _, _), event in zip(rows, _assign(index, rows), strict=True)
    }
    # The same fan post with a different list of cities, five weeks apart.
    assert events["4457308492435370"] == events["4471638696944550"]
    # A news headline shared again and again, and a repost chain of a celebrity's post.
    assert events["4461498300185980"] == events["4461865440911900"] == events["4461485214099900"]
    assert events["4467660827926170"] == events["4469453419411180"] == events["4471283708464480"]
    distinct = {events[i] for i in ("4457308492435370", "4461498300185980", "4467660827926170")}
    assert len(distinct) == 3
    # Most posts are their own story: clustering must not lump the stream together.
    assert index.event_count > 0.85 * len({normalise_for_events(t) for _, t, _ in rows})
