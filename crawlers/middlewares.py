"""Downloader middlewares: the crawl policy that sits between a spider's requests and the network.

In order (priorities in crawlers/settings.py): keeping each source on its own hosts (every request,
redirects included, before robots.txt is even asked), skipping detail pages whose list row is unchanged,
secrets from configuration onto requests to the origin they were configured for, retries with
exponential backoff, pausing a source that answers with login or captcha pages, and repairing pages
whose charset header is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response, TextResponse

from core.china_time import CHINA_TZ
from crawlers.alerts import pause_source
from crawlers.hotline_api import Auth, sign_url, strip_signature
from crawlers.observe import DROPPED_STAT_PREFIX
from crawlers.scope import may_carry_secret, out_of_scope
from crawlers.spiders.board import POST_ID_META, SIGNATURE_META
from crawlers.spiders.common import SkippedRequest
from crawlers.spiders.hotline import API_PAGE_META
from crawlers.state import SeenStore
from yuqing.settings import Settings

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
SKIPPED_STAT = "yuqing/skipped_unchanged"
# The last path segment only: a board may well live under /verify-results/, a login page is /login.
_BLOCK_URL = re.compile(r"/(login|signin|passport|captcha|verify|sso)(\.[a-z]+)?/?(\?|$)", re.IGNORECASE)
# A title that starts with the login words; a message titled "无法登录社保网站" must not pause a board
# (and a captcha field alone proves nothing: many boards' own "post a message" form has one).
_BLOCK_TITLE = re.compile(r"<title>\s*(用户登录|请登录|登录|安全验证|验证码|captcha|sign in)", re.IGNORECASE)


def _source(crawler: Crawler) -> Any:
    return getattr(crawler.spider, "source", None)


def _auth_of(source: Any) -> Auth | None:
    # A hotline API's configured auth; any other kind's token_secret is a bearer token.
    credentials = getattr(source, "credentials", None)
    if isinstance(credentials, Auth):
        return credentials
    token = getattr(source, "token_secret", None)
    return Auth("bearer", token) if isinstance(token, str) and token else None


class OutOfScope(SkippedRequest):
    """A request off the source's hosts, or not http(s): refused before anything is sent."""


# Request meta: the URL a signed-query request was signed as, and at which retry.
SIGNED_META = "yuqing_signed"


class ScopeMiddleware:
    """Keeps each source on its own hosts over http(s) (an inbox inside its folder): see crawlers.scope.

    Runs first, so a link to another host or to ``file:///…`` is never fetched, not even its robots.txt;
    a redirect is a new request and passes here again. Each refusal is one WARNING line and counted as
    ``yuqing/dropped/out of scope: <reason>`` (shown per source in ``yuqing crawl``'s JSON).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Scope is read from the running spider's source."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Raise :class:`OutOfScope` for a request the source may not make."""
        source = _source(self.crawler)
        if source is None:
            return
        reason = out_of_scope(request.url, source)
        if reason is None:
            return
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{DROPPED_STAT_PREFIX}out of scope: {reason}")
        referer = request.headers.get(b"Referer") or b"-"
        came_from = request.meta.get("redirect_urls") or [referer.decode("latin-1")]
        logger.warning(
            "stage=crawl channel=%s event=out-of-scope reason=%s url=%s from=%s",
            getattr(source, "name", "-"),
            reason,
            request.url[:300],
            str(came_from[-1])[:300],
        )
        raise OutOfScope(f"out of scope: {reason}")


class SecretsMiddleware:
    """Adds a source's credentials, named in its configuration, to requests for the origin they belong to.

    Bearer token (``token_secret`` or ``auth: {style: bearer}``), a key header (``style: header``), a
    signed query (``style: signed_query``, on API page requests, signed again for each retry) and the
    cookie (``cookie_secret``). A request to any other origin, or over plain http to a host that is not
    this machine, carries none of them: what a redirect copied over is removed. The values come from the
    crawl setting ``YUQING_SECRETS`` (name → value), which the entry point fills from
    ``YUQING_SECRET_<NAME>`` variables: never from the repository, never logged.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.secrets: dict[str, str] = dict(crawler.settings.getdict("YUQING_SECRETS"))
        self._missing_reported: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Read the secrets mapping."""
        return cls(crawler)

    def process_request(self, request: Request) -> Request | None:
        """Attach the configured credentials, or withhold them from a request to another origin."""
        source = _source(self.crawler)
        auth = _auth_of(source)
        cookie_name = getattr(source, "cookie_secret", None)
        if auth is None and not cookie_name:
            return None
        if not may_carry_secret(request.url, source):
            return self._withhold(request, auth, bool(cookie_name))
        if auth is not None:
            value = self._value(auth.secret)
            header = auth.header_value(value) if value else None
            if header is not None:
                request.headers[header[0]] = header[1]
            elif value and auth.sign is not None and request.meta.get(API_PAGE_META):
                signed = self._signed(request, auth, value)
                if signed is not None:
                    return signed
        cookie = self._value(cookie_name) if cookie_name else None
        if cookie:
            request.headers[b"Cookie"] = cookie.encode()
        return None

    def _value(self, name: str) -> str | None:
        value = self.secrets.get(name)
        if not value and name not in self._missing_reported:
            self._missing_reported.add(name)
            logger.warning(
                "stage=crawl channel=%s event=secret-missing name=YUQING_SECRET_%s",
                getattr(_source(self.crawler), "name", "-"),
                name,
            )
        return value or None

    def _signed(self, request: Request, auth: Auth, value: str) -> Request | None:
        # The signature goes into the URL, so the signed request replaces this one (and comes back through
        # here once, recognised by SIGNED_META); a retry is signed anew, with a fresh timestamp.
        assert auth.sign is not None
        attempt = int(request.meta.get("retry_times", 0))
        if request.meta.get(SIGNED_META) == (request.url, attempt):
            return None
        url = sign_url(request.url, auth.sign, value)
        return request.replace(url=url, meta={**request.meta, SIGNED_META: (url, attempt)})

    def _withhold(self, request: Request, auth: Auth | None, cookie: bool) -> Request | None:
        names = [b"Authorization"] if auth is not None and auth.style == "bearer" else []
        if auth is not None and auth.style == "header":
            names.append(auth.header.encode())
        if cookie:
            names.append(b"Cookie")
        removed = [name for name in names if name in request.headers]
        for name in removed:
            del request.headers[name]
        url = (
            strip_signature(request.url, auth.sign)
            if auth is not None and auth.sign is not None
            else request.url
        )
        if removed or url != request.url:
            logger.warning(
                "stage=crawl channel=%s event=secret-withheld reason=another-origin-or-plain-http url=%s",
                getattr(_source(self.crawler), "name", "-"),
                url[:300],
            )
        # Not filtered as a duplicate: the stripped URL is the same page, which must still be fetched.
        return request.replace(url=url, dont_filter=True) if url != request.url else None


class SkipUnchangedMiddleware:
    """Drops a detail request whose list-row signature equals the one stored with the published post."""

    def __init__(self, crawler: Crawler, store: SeenStore) -> None:
        self.crawler = crawler
        self.store = store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Needs ``YUQING_SETTINGS`` (the crawl-state file); without it every page is fetched."""
        settings = crawler.settings.get("YUQING_SETTINGS")
        if not isinstance(settings, Settings) or not crawler.settings.getbool("YUQING_INCREMENTAL", True):
            raise NotConfigured("no crawl state to compare list signatures with")
        from crawlers.pipelines import SEEN_FILE

        middleware = cls(crawler, SeenStore(settings.crawl_state_path / SEEN_FILE))
        crawler.signals.connect(middleware.store.close, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request) -> None:
        """Raise :class:`SkippedRequest` for an unchanged detail page."""
        post_id = request.meta.get(POST_ID_META)
        signature = request.meta.get(SIGNATURE_META)
        if post_id is not None and signature is not None and self.store.signature(post_id) == signature:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(SKIPPED_STAT)
            raise SkippedRequest("unchanged since the last crawl")


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries (429, 5xx, timeouts) with a wait before each: ``Retry-After`` or exponential."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("YUQING_RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("YUQING_RETRY_BACKOFF_MAX", 60.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        """Retry a retryable status after a pause (a 429's ``Retry-After`` is honoured up to the cap)."""
        result = super().process_response(request, response)
        if isinstance(result, Request):
            header = response.headers.get(b"Retry-After")
            hint = float(header) if header and header.strip().isdigit() else None
            await self._wait(result, hint)
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        """Retry a timeout or dropped connection after a pause."""
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, None)
        return result

    async def _wait(self, retry: Request, hint: float | None) -> None:
        attempt = int(retry.meta.get("retry_times", 1))
        delay = min(hint if hint is not None else self.base * 2 ** (attempt - 1), self.cap)
        if delay > 0:
            await asyncio.sleep(delay)


class BlockDetectionMiddleware:
    """Pauses the source when it answers with a login or captcha page, and raises an alert."""

    def __init__(self, crawler: Crawler, settings: Settings | None) -> None:
        self.crawler = crawler
        self.settings = settings
        self.paused = False
        self._closing: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Pauses are recorded under ``Settings.crawl_state_path`` when settings are given."""
        settings = crawler.settings.get("YUQING_SETTINGS")
        return cls(crawler, settings if isinstance(settings, Settings) else None)

    def process_response(self, request: Request, response: Response) -> Response:
        """Pass an ordinary page on; pause the source on a login or captcha page."""
        if self.paused:
            raise SkippedRequest("source paused")
        head = response.text[:4096] if isinstance(response, TextResponse) else ""
        if not (_BLOCK_URL.search(response.url) or _BLOCK_TITLE.search(head)):
            return response
        self.paused = True
        name = getattr(_source(self.crawler), "name", "-")
        logger.error(
            "stage=crawl channel=%s event=alert reason=login-or-captcha url=%s action=paused",
            name,
            response.url,
        )
        if self.settings is not None:
            now = datetime.now(CHINA_TZ)
            pause_source(
                self.settings.crawl_state_path, name, reason="login-or-captcha", url=response.url, now=now
            )
        assert self.crawler.engine is not None
        self._closing = asyncio.get_running_loop().create_task(
            self.crawler.engine.close_spider_async(reason="paused: login or captcha page")
        )
        raise SkippedRequest("source paused")


class CharsetRepairMiddleware:
    """Re-decodes a page whose declared charset does not fit its bytes (a UTF-8 header on a GBK page)."""

    def process_response(self, request: Request, response: Response) -> Response:
        """Return the response with a charset that decodes it, trying the page's GB18030 family next."""
        if not isinstance(response, HtmlResponse):
            return response  # JSON is UTF-8 by definition: a JSON page that does not decode is broken
        encoding = response.encoding
        try:
            response.body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            for candidate in ("gb18030", "utf-8"):
                try:
                    response.body.decode(candidate)
                except UnicodeDecodeError:
                    continue
                logger.warning(
                    "stage=crawl event=charset-repaired declared=%s used=%s url=%s",
                    encoding,
                    candidate,
                    response.url,
                )
                return response.replace(encoding=candidate)
        return response
