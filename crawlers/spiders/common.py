"""What every spider shares: turning a failed request into a :class:`FailedPage` for the dead letters."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from crawlers.items import FailedPage


class SkippedRequest(IgnoreRequest):
    """A request our own policy chose not to send (unchanged detail page, paused source): not a failure."""


def failed_page(channel: str, failure: Failure) -> FailedPage | None:
    """The dead-letter item of a failed request, or None when the request was skipped on purpose."""
    error = failure.value
    if isinstance(error, SkippedRequest):
        return None
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "-"
    if isinstance(error, HttpError):
        response = error.response
        excerpt = response.text[:200] if isinstance(response, TextResponse) else ""
        return FailedPage(channel, response.url, f"http {response.status}", excerpt)
    if isinstance(error, TwistedTimeoutError):
        return FailedPage(channel, url, "timeout")
    if isinstance(error, IgnoreRequest):  # the redirect middleware's "max redirections reached", ...
        return FailedPage(channel, url, f"ignored: {error}")
    if "max size" in str(error):  # cancelled by DOWNLOAD_MAXSIZE
        return FailedPage(channel, url, f"too large: {error}"[:300])
    return FailedPage(channel, url, f"{type(error).__name__}: {error}"[:300])
