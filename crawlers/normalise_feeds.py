"""Pure functions that turn hotline work orders and Weibo-like mblogs into posts.raw messages.

The same rules as boards (:mod:`crawlers.normalise`): clean text, ISO times in China time, phone and ID
numbers masked before anything leaves the crawler, callers and accounts kept as salted pseudonyms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlsplit

from lxml import html as lxml_html

from core.china_time import CHINA_TZ
from core.masking import mask_name, mask_text, mobile_digits, pseudonym
from core.messages import MAX_COUNT, SCHEMA_VERSION, Author, Hotline, Metrics, RawPost, Reply, post_id
from crawlers.errors import ItemRejected
from crawlers.exports import HOTLINE_REQUIRED
from crawlers.feeds import ORDER_PLACEHOLDER, FeedSource
from crawlers.items import HotlineItem, WeiboItem
from crawlers.normalise import iso, normalise_line, normalise_text
from crawlers.normalise import parse_board_time as parse_time_text

APPEAL_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
HOTLINE_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d",
    "%Y-%m", "%Y%m",
)  # fmt: skip
_DONE = ("已办结", "已回复", "已答复", "已办理", "已回访")
_WEIBO_FORMATS = ("%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_MINUTES_AGO = re.compile(r"(\d+)\s*分钟前")
_HOURS_AGO = re.compile(r"(\d+)\s*小时前")
_YESTERDAY = re.compile(r"昨天\s*(\d{1,2}):(\d{2})")
_MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")


def hotline_post_id(channel: str, order_no: str | None) -> str | None:
    """A work order's post id, ``hotline:<channel>:<工单编号>`` (spaces dropped), or None without a number.

    The one derivation, for the message and for the crawl log alike.
    """
    order = normalise_text(order_no).replace(" ", "")
    return post_id("hotline", channel, order) if order else None


def weibo_post_id(channel: str, mblog: Mapping[str, object]) -> str | None:
    """An mblog's post id, ``weibo:<channel>:<id or mid>``, or None without one (message and log alike)."""
    native_id = weibo_native_id(mblog)
    return post_id("weibo", channel, native_id) if native_id else None


def weibo_native_id(mblog: Mapping[str, object]) -> str:
    """An mblog's own id (``id``, else ``mid``), or "" without one."""
    return str(mblog.get("id") or mblog.get("mid") or "").strip()


def hotline_post(item: HotlineItem, source: FeedSource, *, salt: str, fetched_at: datetime) -> RawPost:
    """The posts.raw message of a work order; raise :class:`ItemRejected` when it cannot be one."""
    field = {key: normalise_text(value) for key, value in item.fields.items()}
    for name in HOTLINE_REQUIRED:
        if not field.get(name):
            raise ItemRejected(f"missing {name}")
    order_no = field["工单编号"].replace(" ", "")
    identity = hotline_post_id(source.name, field["工单编号"])
    if identity is None:
        raise ItemRejected("missing 工单编号")
    accepted = parse_time_text(field["受理时间"], HOTLINE_TIME_FORMATS)
    if accepted is None:
        raise ItemRejected("unparseable 受理时间")
    appeal = field.get("诉求类型", "")
    raw: dict[str, object] = {"origin": item.origin}
    if appeal not in APPEAL_TYPES:
        raw["appeal_type_text"] = appeal
    for key in ("回访满意度", "更新时间"):
        if field.get(key):
            raw[key] = field[key]
    if item.extra:
        raw["extra"] = {key: mask_text(normalise_text(value)) for key, value in item.extra.items()}
    status = field.get("办理状态", "")
    unit = field.get("承办单位") or None
    finished = parse_time_text(field.get("办结时间"), HOTLINE_TIME_FORMATS)
    replied = finished is not None or any(label in status for label in _DONE)
    reply_text = mask_text(field.get("答复内容", "")) or None
    reply = Reply(
        status="replied" if replied else "pending",
        replied_at=iso(finished) if finished is not None and replied else None,
        unit=unit,
        text=reply_text if replied else None,
    )
    # One person however the platform writes the number (+86, spaces, dashes, full-width digits).
    phone = mobile_digits(field.get("来电号码", "")) or re.sub(r"\D", "", field.get("来电号码", ""))
    caller_key = phone or field.get("来电人", "")
    hotline = Hotline(
        order_no=order_no,
        appeal_type=appeal if appeal in APPEAL_TYPES else "其他",
        caller=mask_text(phone) if phone else mask_name(field.get("来电人", "")),
        unit=unit or "",
        status=status,
    )
    content = mask_text(field["诉求内容"])
    post = RawPost(
        schema=SCHEMA_VERSION,
        id=identity,
        source="hotline",
        channel=source.name,
        url=order_page(source, order_no),
        title=mask_text(normalise_line(field.get("诉求标题", ""))) or normalise_line(content)[:30],
        text=content,
        published_at=iso(accepted),
        fetched_at=iso(fetched_at),
        reply=reply,
        hotline=hotline,
        raw=raw,
    )
    if caller_key:
        # One caller keeps one pseudonym across every hotline channel: repeat requests are merged (并单).
        name = mask_name(field["来电人"]) if field.get("来电人") else hotline["caller"]
        post["author"] = Author(id_hash=pseudonym(caller_key, scope="hotline", key=salt), name=name)
    region = field.get("所属区域") or source.region
    if region:
        post["region"] = region
    return post


def order_page(source: FeedSource, order_no: str) -> str:
    """The work order's own page on its platform, from the source's ``detail_url``; "" without one.

    Never the API or the export file the order was read from (kept in ``raw.origin``): that address
    is the same for every order and shows none of them.
    """
    if not source.detail_url:
        return ""
    return source.detail_url.replace(ORDER_PLACEHOLDER, quote(order_no, safe=""))


def html_to_text(value: str) -> str:
    """A post's HTML as plain text: tags dropped, ``<br>`` as line breaks, an emoticon as its alt text."""
    if "<" not in value:
        return normalise_text(value)
    root = lxml_html.fragment_fromstring(value, create_parent="div")
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for img in root.iter("img"):
        img.tail = (img.get("alt") or "") + (img.tail or "")
    return normalise_text(root.text_content())


def parse_weibo_time(value: str, *, now: datetime) -> datetime | None:
    """``created_at`` as the mobile site writes it: a date, ``刚刚``, ``5分钟前``, ``昨天 10:00``, ``01-04``.

    ``now`` anchors the relative forms; a form not understood gives None.
    """
    text = normalise_line(value)
    local = now.astimezone(CHINA_TZ)
    for fmt in _WEIBO_FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment.astimezone(CHINA_TZ) if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)
    if text == "刚刚":
        return local
    if found := _MINUTES_AGO.fullmatch(text):
        return local - timedelta(minutes=int(found.group(1)))
    if found := _HOURS_AGO.fullmatch(text):
        return local - timedelta(hours=int(found.group(1)))
    if found := _YESTERDAY.fullmatch(text):
        day = local - timedelta(days=1)
        return day.replace(hour=int(found.group(1)), minute=int(found.group(2)), second=0, microsecond=0)
    if found := _MONTH_DAY.fullmatch(text):
        try:
            return local.replace(
                month=int(found.group(1)), day=int(found.group(2)), hour=0, minute=0, second=0
            )
        except ValueError:
            return None
    return None


def weibo_post(item: WeiboItem, source: FeedSource, *, salt: str, fetched_at: datetime) -> RawPost:
    """The posts.raw message of an mblog; raise :class:`ItemRejected` when it cannot be one."""
    mblog = item.mblog
    native_id = weibo_native_id(mblog)
    if not native_id:
        raise ItemRejected("missing id")
    created = parse_weibo_time(str(mblog.get("created_at") or ""), now=fetched_at)
    if created is None:
        raise ItemRejected("unparseable created_at")
    text = mask_text(html_to_text(str(mblog.get("text") or "")))
    if not text:
        raise ItemRejected("missing text")
    # Not the query that found it: a post both searched and followed would flap between two versions.
    raw: dict[str, object] = {}
    retweeted = mblog.get("retweeted_status")
    if isinstance(retweeted, dict) and retweeted.get("id"):
        raw["retweeted_id"] = str(retweeted["id"])
    parts = urlsplit(item.url)
    post = RawPost(
        schema=SCHEMA_VERSION,
        id=post_id("weibo", source.name, native_id),
        source="weibo",
        channel=source.name,
        url=f"{parts.scheme}://{parts.netloc}/detail/{native_id}",
        title="",
        text=text,
        published_at=iso(created),
        fetched_at=iso(fetched_at),
        metrics=Metrics(
            reposts=weibo_count(mblog.get("reposts_count"), field="reposts_count"),
            comments=weibo_count(mblog.get("comments_count"), field="comments_count"),
            likes=weibo_count(mblog.get("attitudes_count"), field="attitudes_count"),
        ),
        raw=raw,
    )
    user = mblog.get("user")
    if isinstance(user, dict) and user.get("id") is not None:
        verified = bool(user.get("verified"))
        name = str(user.get("screen_name") or "")
        # A verified account is an institution or public figure; everyone else is a private person.
        post["author"] = Author(
            id_hash=pseudonym(str(user["id"]), scope="weibo", key=salt),
            name=name if verified else mask_name(name),
            followers=weibo_count(user.get("followers_count"), field="followers_count"),
            verified=verified,
        )
    region = normalise_line(str(mblog.get("region_name") or "")).removeprefix("发布于").strip()
    if region or source.region:
        post["region"] = region or source.region
    return post


COUNT_UNITS = {"千": 1_000, "万": 10_000, "亿": 100_000_000}


def weibo_count(value: object, *, field: str) -> int:
    """A count as Weibo prints it ("1.2万", "3千", "10万+", "1,234", 56) as an integer; a missing one is 0.

    Anything else is refused with ``ItemRejected("unparseable <field>")``: the message contract takes
    non-negative integers only, and a guessed 0 would hide a change of the site's format.
    """
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ItemRejected(f"unparseable {field}")
    if isinstance(value, int):
        if not 0 <= value <= MAX_COUNT:
            raise ItemRejected(f"unparseable {field}")
        return value
    text = normalise_line(str(value)).replace(",", "").replace(" ", "").rstrip("+")
    scale = COUNT_UNITS.get(text[-1:], 1) if text else 1
    number = text[:-1] if scale != 1 else text
    try:
        amount = Decimal(number) * scale  # Decimal: 0.29万 is 2900, where floats give 2899
    except InvalidOperation as exc:
        raise ItemRejected(f"unparseable {field}") from exc
    if not amount.is_finite() or not 0 <= amount <= MAX_COUNT:
        raise ItemRejected(f"unparseable {field}")
    return int(amount)
