"""LibreOffice and poppler in the tests: skip without them (fail with YUQING_REQUIRE_SERVERS=1), read
page sizes and page counts from a PDF, and where on a page the page number was printed."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVERS

_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.\s]+?)\s*\]")
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_PAGE_TAG = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _missing(message: str) -> None:
    if REQUIRE_SERVERS:
        pytest.fail(f"YUQING_REQUIRE_SERVERS=1: {message}")
    pytest.skip(message)


def require_libreoffice() -> None:
    """Skip the test where LibreOffice (soffice) is not installed."""
    from briefing.pdf import soffice

    if soffice() is None:
        _missing(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui (make browser)"
        )


def require_poppler() -> str:
    """poppler's pdftotext; the test skipped where it is not installed."""
    program = shutil.which("pdftotext")
    if program is None:
        _missing("poppler (pdftotext) is not installed: apt-get install poppler-utils (make browser)")
    return str(program)


def page_sizes_mm(pdf: bytes) -> set[tuple[int, int]]:
    """The page sizes of ``pdf`` in whole mm (LibreOffice writes page boxes as plain PDF objects)."""
    return {tuple(round(float(v) * 25.4 / 72) for v in box.split()[2:]) for box in _MEDIA_BOX.findall(pdf)}  # type: ignore[misc]


def page_count(pdf: bytes) -> int:
    """The pages of ``pdf``."""
    return len(_PAGE.findall(pdf))


def page_number_sides(pdf: Path) -> list[str]:
    """For each page, where its number is printed in the bottom sixth of the page: left, right or centre
    ("" where none is found), by the words and boxes ``pdftotext -bbox`` reads."""
    html = subprocess.run(
        [require_poppler(), "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    sides = []
    for number, (width, height, words) in enumerate(_PAGE_TAG.findall(html), start=1):
        page_width, side = float(width), ""
        for x_min, y_min, x_max, _, text in _WORD.findall(words):
            if unescape(text).strip("—- ") == str(number) and float(y_min) > float(height) * 5 / 6:
                middle = (float(x_min) + float(x_max)) / 2
                side = "left" if middle < page_width * 0.4 else "centre"
                side = "right" if middle > page_width * 0.6 else side
        sides.append(side)
    return sides
