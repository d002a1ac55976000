"""The demo site's news: a city paper with an RSS (and Atom) feed, and a second site reprinting its story.

``/news/`` is 云溪日报: ``/news/rss.xml`` and ``/news/atom.xml`` list its two articles
(``/news/articles/<id>.html``, pages with the navigation, related links and footer a real news site
has around its text). ``/nanwan/`` is 南湾资讯网, a site without a feed: its list page
``/nanwan/list.html`` links to its copy of the first article, in another layout and under another
outlet, the way a story is reprinted from site to site. ``/news/bad-rss.xml`` is the bad cases: an
item without a link, a link to a missing page, a page with no text and a page with no time.
Articles come from ``news.json`` (times are minutes before the start).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from core.china_time import CHINA_TZ
from demo_site.bad import Answer
from demo_site.errors import DemoDataError

NEWS_FILE = Path(__file__).with_name("news.json")
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
LIST_PAGE_SIZE = 10
# The bad feed's items: (title, path of the article or None for an item without a link, pubDate).
BAD_FEED_IDS = ("1002", "9404", "empty", "nodate")


@dataclass(frozen=True)
class Outlet:
    """A news site: its slug (the first path segment), its name and its page title."""

    slug: str
    outlet: str
    title: str
    tagline: str


@dataclass(frozen=True)
class Article:
    """One article as its site prints it; times are naive China time."""

    site: str
    id: str
    title: str
    author: str
    section: str
    published_at: datetime
    paragraphs: tuple[str, ...]
    reprint_of: str | None = None

    @property
    def path(self) -> str:
        """The article page's path on the demo site."""
        return f"/{self.site}/articles/{self.id}.html"


@dataclass
class NewsSites:
    """The news sites and their articles (newest first per site)."""

    outlets: dict[str, Outlet] = field(default_factory=dict)
    articles: dict[str, list[Article]] = field(default_factory=dict)

    def article(self, site: str, article_id: str) -> Article | None:
        """The article ``article_id`` of ``site``, if it has one."""
        return next((a for a in self.articles.get(site, []) if a.id == article_id), None)

    def add(self, outlet: Outlet, articles: list[Article]) -> None:
        """Serve another site (the benchmark's)."""
        self.outlets[outlet.slug] = outlet
        self.articles[outlet.slug] = sorted(articles, key=lambda a: (a.published_at, a.id), reverse=True)

    def respond(self, path: str, query: dict[str, list[str]], base_url: str) -> Answer | None:
        """The answer for a news path, or None when the path is not one of the news sites'."""
        segments = path.strip("/").split("/")
        outlet = self.outlets.get(segments[0])
        if outlet is None:
            return None
        rest = segments[1:]
        if rest == ["rss.xml"]:
            return Answer(
                200, rss(outlet, self.articles[outlet.slug], base_url).encode("utf-8"), content_type=RSS
            )
        if rest == ["atom.xml"]:
            body = atom(outlet, self.articles[outlet.slug], base_url).encode("utf-8")
            return Answer(200, body, content_type=ATOM)
        if rest == ["bad-rss.xml"]:
            return Answer(200, bad_rss(outlet, self, base_url).encode("utf-8"), content_type=RSS)
        if rest == ["list.html"]:
            number = query.get("page", ["1"])[0]
            page = int(number) if number.isdigit() and int(number) >= 1 else 0
            articles = self.articles[outlet.slug]
            chunk = articles[(page - 1) * LIST_PAGE_SIZE : page * LIST_PAGE_SIZE] if page else []
            if not chunk and page != 1:
                return Answer(404, _not_found(outlet).encode("utf-8"))
            more = page * LIST_PAGE_SIZE < len(articles)
            return Answer(200, list_page(outlet, chunk, page, more).encode("utf-8"))
        if len(rest) == 2 and rest[0] == "articles" and rest[1].endswith(".html"):
            number = rest[1].removesuffix(".html")
            if number == "empty":
                return Answer(200, _empty_page(outlet).encode("utf-8"))
            if number == "nodate":
                return Answer(200, _undated_page(outlet).encode("utf-8"))
            article = self.article(outlet.slug, number)
            if article is not None:
                return Answer(200, article_page(outlet, self._text_of(article), article).encode("utf-8"))
        return Answer(404, _not_found(outlet).encode("utf-8"))

    def _text_of(self, article: Article) -> tuple[str, ...]:
        if article.reprint_of is None:
            return article.paragraphs
        for articles in self.articles.values():
            for original in articles:
                if original.id == article.reprint_of and original.reprint_of is None:
                    return original.paragraphs
        return article.paragraphs


def demo_news(anchor: datetime, *, path: Path = NEWS_FILE) -> NewsSites:
    """Our own articles with absolute times counted back from ``anchor`` (naive China time)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        outlets = {slug: Outlet(slug, **entry) for slug, entry in data["sites"].items()}
        originals = {entry["id"]: entry for entry in data["articles"] if "reprint_of" not in entry}
        articles = [_article(entry, originals, anchor) for entry in data["articles"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DemoDataError(path, f"cannot read the demo news: {exc!r}") from exc
    sites = NewsSites()
    for slug, outlet in outlets.items():
        sites.add(outlet, [a for a in articles if a.site == slug])
    return sites


def _article(entry: dict[str, Any], originals: dict[str, dict[str, Any]], anchor: datetime) -> Article:
    source = originals[entry["reprint_of"]] if "reprint_of" in entry else entry
    return Article(
        site=str(entry["site"]),
        id=str(entry["id"]),
        title=str(source["title"]),
        author=str(entry.get("author", source.get("author", ""))),
        section=str(entry.get("section", "")),
        published_at=anchor - timedelta(minutes=int(entry["minutes_ago"])),
        paragraphs=tuple(str(p) for p in source["paragraphs"]),
        reprint_of=entry.get("reprint_of"),
    )


def bench_news(anchor: datetime, count: int, *, slug: str = "benchnews") -> tuple[Outlet, list[Article]]:
    """``count`` articles for the crawl benchmark: our two stories repeated under new numbers."""
    base = demo_news(anchor)
    stories = [a for a in base.articles["news"] if a.reprint_of is None]
    outlet = Outlet(slug, "基准测试新闻网", "基准测试新闻网", "")
    articles = [
        replace(
            stories[n % len(stories)],
            site=slug,
            id=str(700000 + n),
            title=f"{stories[n % len(stories)].title}（{n}）",
            published_at=anchor - timedelta(minutes=n),
        )
        for n in range(count)
    ]
    return outlet, articles


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=CHINA_TZ)


def rss(outlet: Outlet, articles: list[Article], base_url: str) -> str:
    """An RSS 2.0 feed of the site's articles (absolute links, RFC 822 times, dc:creator)."""
    items = "\n".join(
        f"""<item>
<title>{xml_escape(a.title)}</title>
<link>{xml_escape(base_url + a.path)}</link>
<guid isPermaLink="true">{xml_escape(base_url + a.path)}</guid>
<pubDate>{format_datetime(_aware(a.published_at))}</pubDate>
<dc:creator>{xml_escape(a.author)}</dc:creator>
<category>{xml_escape(a.section)}</category>
<description>{xml_escape(a.paragraphs[0])}</description>
</item>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{xml_escape(outlet.outlet)}</title>
<link>{xml_escape(base_url)}/{outlet.slug}/</link>
<description>{xml_escape(outlet.tagline)}</description>
<language>zh-cn</language>
{items}
</channel>
</rss>
"""


def atom(outlet: Outlet, articles: list[Article], base_url: str) -> str:
    """The same articles as an Atom feed (RFC 3339 times, author names)."""
    newest = max((a.published_at for a in articles), default=datetime(2024, 1, 1))
    entries = "\n".join(
        f"""<entry>
<title>{xml_escape(a.title)}</title>
<link rel="alternate" type="text/html" href="{xml_escape(base_url + a.path)}"/>
<id>tag:demo,2024:{outlet.slug}:{a.id}</id>
<published>{_aware(a.published_at).isoformat()}</published>
<updated>{_aware(a.published_at).isoformat()}</updated>
<author><name>{xml_escape(a.author)}</name></author>
<summary>{xml_escape(a.paragraphs[0])}</summary>
</entry>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>{xml_escape(outlet.outlet)}</title>
<link rel="alternate" href="{xml_escape(base_url)}/{outlet.slug}/"/>
<id>tag:demo,2024:{outlet.slug}</id>
<updated>{_aware(newest).isoformat()}</updated>
{entries}
</feed>
"""


def bad_rss(outlet: Outlet, sites: NewsSites, base_url: str) -> str:
    """The bad cases: a good item, an item without a link, a missing page, an empty page, an undated page."""
    good = sites.article(outlet.slug, "1002")
    when = format_datetime(_aware(good.published_at)) if good else "Sat, 01 Jun 2024 09:00:00 +0800"
    rows = [
        (good.title if good else "好新闻", f"{base_url}/{outlet.slug}/articles/1002.html", when),
        ("没有链接的条目", None, when),
        ("页面不存在", f"{base_url}/{outlet.slug}/articles/9404.html", when),
        ("没有正文的页面", f"{base_url}/{outlet.slug}/articles/empty.html", when),
        ("没有时间的页面", f"{base_url}/{outlet.slug}/articles/nodate.html", "某一天"),
    ]
    items = "\n".join(
        f"<item><title>{xml_escape(title)}</title>"
        + (f"<link>{xml_escape(link)}</link>" if link else "")
        + f"<pubDate>{xml_escape(date)}</pubDate></item>"
        for title, link, date in rows
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{xml_escape(outlet.outlet)}（异常测试）</title>\n{items}\n</channel></rss>\n"
    )


def _paragraphs(lines: tuple[str, ...]) -> str:
    return "\n".join(f"<p>{escape(line)}</p>" for line in lines)


def article_page(outlet: Outlet, paragraphs: tuple[str, ...], article: Article) -> str:
    """An article in its site's layout: the paper's, or the portal's with a sidebar and the source line."""
    when = article.published_at.strftime("%Y-%m-%d %H:%M:%S")
    if article.reprint_of is None:
        body = f"""<div class="crumbs"><a href="/{outlet.slug}/">首页</a> &gt; {escape(article.section)}</div>
<article class="news-article">
<h1 class="headline">{escape(article.title)}</h1>
<div class="byline"><span class="time">{when}</span>　来源：{escape(outlet.outlet)}
　记者：{escape(article.author)}</div>
<div class="article-content">
{_paragraphs(paragraphs)}
</div>
<div class="editor">（责任编辑：张华）</div>
</article>
<div class="related"><h3>相关阅读</h3><ul>
<li><a href="/{outlet.slug}/list.html">更多本地新闻</a></li>
<li><a href="/{outlet.slug}/rss.xml">订阅本站</a></li>
</ul></div>"""
    else:
        body = f"""<div class="layout"><div class="main">
<h1 class="title">{escape(article.title)}</h1>
<div class="info">发布时间：<span class="pubtime">{when}</span>　来源：云溪日报
　作者：<span class="writer">{escape(article.author)}</span></div>
<div class="content" id="content">
{_paragraphs(paragraphs)}
</div>
<p class="statement">声明：本文转自云溪日报，版权归原作者所有。</p>
</div>
<aside class="sidebar"><h3>热点推荐</h3><ul>
<li><a href="/{outlet.slug}/list.html">南湾区夏季防汛工作部署会召开</a></li>
<li><a href="/{outlet.slug}/list.html">滨江公园改造完成 周末迎来游园高峰</a></li>
<li><a href="/{outlet.slug}/list.html">南湾新村菜市场升级改造征求意见</a></li>
</ul></aside></div>"""
    return _layout(outlet, article.title, body, author=article.author, published=when)


def list_page(outlet: Outlet, articles: list[Article], page: int, more: bool) -> str:
    """A site's article list: a link per article with its date, then the pager."""
    rows = "\n".join(
        f'<li><a class="news-link" href="{escape(a.path)}">{escape(a.title)}</a>'
        f'<span class="date">{a.published_at:%Y-%m-%d}</span></li>'
        for a in articles
    )
    pager = (
        f'<a class="next" href="/{outlet.slug}/list.html?page={page + 1}">下一页</a>'
        if more
        else '<span class="disabled">下一页</span>'
    )
    body = f'<h2>最新资讯</h2>\n<ul class="news-list">\n{rows}\n</ul>\n<div class="pager">{pager}</div>'
    return _layout(outlet, "最新资讯", body)


def _empty_page(outlet: Outlet) -> str:
    return _layout(outlet, "图片新闻", '<div class="gallery"><img src="/img/1.jpg" alt=""></div>')


def _undated_page(outlet: Outlet) -> str:
    body = f"""<article><h1 class="headline">没有时间的页面</h1><div class="article-content">
{
        _paragraphs(
            (
                "这是一篇没有任何发布时间的稿件，页面上和元数据里都找不到日期，采集时应当进入死信而不是被猜一个时间。",
                "稿件正文有两段，长度足以被正文提取器认出，只是缺少时间这一项必需的信息，因此无法成为一条舆情帖子。",
            )
        )
    }
</div></article>"""
    return _layout(outlet, "没有时间的页面", body)


def _not_found(outlet: Outlet) -> str:
    return _layout(outlet, "页面不存在", "<h1>页面不存在</h1><p>您访问的页面不存在或已被删除。</p>")


def _layout(outlet: Outlet, title: str, body: str, *, author: str = "", published: str = "") -> str:
    meta = ""
    if author:
        meta += f'<meta name="author" content="{escape(author)}">\n'
    if published:
        meta += f'<meta name="publishdate" content="{escape(published)}">\n'
    home = f"/{outlet.slug}/"
    nav = " ".join(f'<a href="{home}list.html">{label}</a>' for label in ("本地", "民生", "视频", "专题"))
    nav = f'<a href="{home}">首页</a> {nav}'
    about = " | ".join(f'<a href="{home}">{label}</a>' for label in ("关于我们", "联系我们", "网站地图"))
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{escape(title)}_{escape(outlet.title)}</title>
<meta property="og:site_name" content="{escape(outlet.outlet)}">
{meta}</head>
<body>
<header><div class="logo">{escape(outlet.outlet)}</div><div class="tagline">{escape(outlet.tagline)}</div>
<nav>{nav}</nav></header>
<main>
{body}
</main>
<footer><p>版权所有：{escape(outlet.outlet)}　本站为舆情监测系统的演示站点，内容均为虚构。</p>
<p>{about}</p></footer>
</body>
</html>
"""
