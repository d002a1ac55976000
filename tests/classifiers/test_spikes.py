"""Spikes: pure functions of posts and a ``now`` passed in, each spike explained in Chinese."""

from __future__ import annotations

from datetime import datetime, timedelta

from classifiers.spikes import SpikePost, explain, hourly_counts, spike_check
from core.china_time import CHINA_TZ

NOW = datetime(2024, 5, 1, 15, 0, tzinfo=CHINA_TZ)


def _posts(key: str, per_hour: dict[int, int], text: str, source: str = "weibo") -> list[SpikePost]:
    out = []
    for hours_ago, count in per_hour.items():
        for n in range(count):
            at = NOW - timedelta(hours=hours_ago, minutes=1 + n % 50)
            out.append(SpikePost(f"{key}-{hours_ago}-{n}", key, at, source, text, reach=n))
    return out


def test_hourly_counts_put_the_last_hour_first_and_ignore_the_future() -> None:
    times = [NOW, NOW - timedelta(minutes=59), NOW - timedelta(minutes=61), NOW + timedelta(minutes=1)]
    assert hourly_counts(times, NOW, hours=3) == [2, 1, 0]


def test_a_jump_over_a_quiet_baseline_is_a_spike() -> None:
    check = spike_check([30] + [2] * 12)
    assert check.is_spike and check.ratio == 15 and check.baseline_mean == 2


def test_a_daily_rhythm_is_not_a_spike() -> None:
    counts = [30] + [2] * 23 + [28] + [2] * 150
    assert not spike_check(counts).is_spike  # the same hour yesterday was as busy


def test_a_handful_of_posts_on_a_silent_key_is_not_a_spike() -> None:
    assert not spike_check([3] + [0] * 12).is_spike


def test_spikes_are_explained_with_terms_sources_and_representative_posts() -> None:
    # As the dashboard and the briefing do: a key's hourly counts checked, then a spike explained.
    posts = _posts("交通运输", {0: 25, 3: 2, 6: 1}, "地铁三号线早高峰故障停运，乘客滞留站台")
    posts += _posts("交通运输", {0: 5}, "地铁三号线故障，公交接驳", source="news")
    check = spike_check(hourly_counts((p.published_at for p in posts), NOW))
    assert check.is_spike and check.last_hour == 30
    spike = explain("交通运输", check, posts, NOW, terms_of=lambda text: text.replace("，", " ").split())
    assert spike.sources == {"weibo": 25, "news": 5}
    assert spike.representatives[0] == "交通运输-0-24"  # the most spread post first
    assert "地铁三号线早高峰故障停运" in spike.top_terms
    assert spike.explanation.startswith("「交通运输」近1小时30条")
    assert "微博25条、新闻5条" in spike.explanation
