"""Fixtures of the crawler tests: the packaged board configurations and saved pages as responses."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scrapy.http import HtmlResponse

from crawlers.sources import PACKAGED_SOURCES, BoardSource, load_sources
from demo_site import REAL_BOARD_SOURCES
from tests.crawlers.make_pages import PAGES

DEMO_BASE = "http://127.0.0.1:8600"


@pytest.fixture
def demo_source() -> BoardSource:
    """The packaged demo board (CSS selectors), whose start URL is on port 8600."""
    return load_sources(PACKAGED_SOURCES)[0]


@pytest.fixture
def real_layout_source() -> BoardSource:
    """The real-data board's configuration (label-anchored XPath selectors)."""
    return load_sources(REAL_BOARD_SOURCES)[0]


@pytest.fixture
def saved_page() -> Callable[[str, str], HtmlResponse]:
    """``saved_page(file name, path on the demo site)``: a saved page as the response to that URL."""

    def make(name: str, path: str) -> HtmlResponse:
        body = (PAGES / name).read_bytes()
        return HtmlResponse(url=DEMO_BASE + path, body=body, encoding="utf-8")

    return make
