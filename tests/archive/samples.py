"""Enriched posts for the archive tests: our own Chinese text, a few months, sources and labels."""

from __future__ import annotations

from typing import Any

from core.messages import SCHEMA_VERSION, EnrichedPost, Source, post_id


def enriched(
    source: Source,
    channel: str,
    native_id: str,
    *,
    published_at: str,
    title: str = "",
    text: str,
    sentiment: str = "neutral",
    topic: str = "城市管理",
    appeal_type: str | None = None,
    risk: int = 10,
    region: str | None = None,
    reply_status: str | None = None,
    event_id: str | None = None,
    **extra: Any,
) -> EnrichedPost:
    """One enriched post with every field the schema defines; ``extra`` overrides or adds fields."""
    post: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "id": post_id(source, channel, native_id),
        "source": source,
        "channel": channel,
        "url": f"https://example.gov.cn/{source}/{native_id}",
        "title": title,
        "text": text,
        "author": {"id_hash": f"h{native_id}", "name": "市民", "followers": 12, "verified": False},
        "published_at": published_at,
        "fetched_at": published_at,
        "region": region,
        "metrics": {"reposts": 1, "comments": 2, "likes": 3, "views": 40},
        "raw": {"native": native_id, "extra": [1, {"nested": True}]},
        "sentiment": {"label": sentiment, "score": 0.8},
        "topic": {"label": topic, "score": 0.7, "in_remit": True, "unit": "综合科"},
        "appeal_type": appeal_type,
        "risk": {"score": risk, "reasons": ["sample"]},
        "event_id": event_id or f"ev-{native_id}",
        "models": {"sentiment": "charlinear@1", "topic": "tfidf-svm@1"},
    }
    if reply_status is not None:
        post["reply"] = {"status": reply_status, "replied_at": None, "unit": "综合科", "text": None}
    if source == "hotline":
        post["hotline"] = {
            "order_no": f"GD{native_id}",
            "appeal_type": appeal_type or "咨询",
            "caller": "138****0000",
            "unit": "综合科",
            "status": "open",
        }
    post.update(extra)
    return post  # type: ignore[return-value]


def dataset() -> dict[str, EnrichedPost]:
    """Ten posts keyed by a nickname, fresh on every call (tests may change them)."""
    return {
        "parking_board": enriched(
            "board",
            "市长信箱",
            "1001",
            published_at="2024-05-03T09:15:00+08:00",
            title="小区停车难问题亟待解决",
            text="我们小区车位严重不足，晚上下班回来根本找不到停车的地方，希望有关部门协调增加停车位。",
            sentiment="negative",
            topic="交通出行",
            appeal_type="投诉",
            risk=40,
            region="朝阳区",
            reply_status="pending",
            event_id="ev-parking",
        ),
        "parking_weibo": enriched(
            "weibo",
            "城市观察",
            "2001",
            published_at="2024-05-03T21:40:00+08:00",
            text="又是停车难！老城区的停车位一位难求，什么时候能解决？#停车难#",
            sentiment="negative",
            topic="交通出行",
            risk=55,
            event_id="ev-parking",
        ),
        "noise_hotline": enriched(
            "hotline",
            "12345",
            "3001",
            published_at="2024-05-10T14:00:00+08:00",
            title="反映工地夜间施工噪音扰民",
            text="来电人反映某工地每天夜里十一点以后仍在施工，噪音很大，严重影响休息，要求查处。",
            sentiment="negative",
            topic="环境保护",
            appeal_type="投诉",
            risk=60,
            region="海淀区",
            reply_status="pending",
            event_id="ev-noise",
        ),
        "parking_news": enriched(
            "news",
            "日报",
            "4001",
            published_at="2024-06-01T08:00:00+08:00",
            title="我市新增公共停车泊位三千个",
            text="记者从市交通委获悉，今年以来全市新增公共停车泊位三千个，缓解了部分老旧小区的停车压力。",
            sentiment="positive",
            topic="交通出行",
            risk=5,
        ),
        "housing_board": enriched(
            "board",
            "区长信箱",
            "1002",
            published_at="2024-04-28T10:00:00+08:00",
            title="咨询公租房申请条件",
            text="请问外地户籍在本市工作满三年能否申请公租房？需要准备哪些材料？",
            topic="住房保障",
            appeal_type="咨询",
            risk=10,
            region="朝阳区",
            reply_status="replied",
        ),
        "food_hotline": enriched(
            "hotline",
            "12345",
            "3002",
            published_at="2024-06-15T23:30:00+08:00",
            title="举报超市销售过期食品",
            text="市民举报某超市销售过期牛奶，要求市场监管部门立即查处。",
            sentiment="negative",
            topic="市场监管",
            appeal_type="举报",
            risk=75,
            region="朝阳区",
            reply_status="pending",
        ),
        # 措施工作 holds the characters 施工 side by side, but not the word: a search for 施工
        # must not find it.
        "thanks_weibo": enriched(
            "weibo",
            "市民之声",
            "2002",
            published_at="2024-06-20T12:00:00+08:00",
            text="感谢社区工作人员帮忙修好了楼道的路灯，便民措施工作做得好，点赞！",
            sentiment="positive",
            appeal_type="表扬",
            risk=0,
        ),
        # The last second of May in China time: a May post.
        "bikes_board": enriched(
            "board",
            "市长信箱",
            "1003",
            published_at="2024-05-31T23:59:59+08:00",
            title="地铁站周边共享单车乱停放",
            text="地铁站出口共享单车乱停乱放，行人通行困难。",
            sentiment="negative",
            topic="交通出行",
            appeal_type="建议",
            risk=20,
            region="海淀区",
            reply_status="replied",
        ),
        # Given in UTC: 00:30 on 1 June in China time, so a June post.
        "noise_news": enriched(
            "news",
            "晚报",
            "4002",
            published_at="2024-05-31T16:30:00+00:00",
            title="夜间施工审批将更严格",
            text="环保部门表示，将从严审批夜间施工许可，减少噪音对居民的影响。",
            topic="环境保护",
            risk=15,
            event_id="ev-noise",
        ),
        # Same moment as parking_news (ties break by id) and same risk as parking_weibo.
        "bbq_weibo": enriched(
            "weibo",
            "城市观察",
            "2003",
            published_at="2024-06-01T08:00:00+08:00",
            text="夜里楼下烧烤店油烟太大，窗户都不敢开。",
            sentiment="negative",
            topic="环境保护",
            risk=55,
        ),
    }
