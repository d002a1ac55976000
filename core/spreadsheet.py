"""The one cell sanitiser of every spreadsheet the service writes (台账 export, search export).

Post titles, summaries and answers come from the public. A spreadsheet program runs a text cell
that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading tab or carriage return can
hide one), so such text gets a leading apostrophe (the OWASP "CSV injection" advice) and stays text.
Characters XML cannot hold are dropped and text is cut to Excel's cell limit, so one crafted post
cannot make a whole export fail. :func:`restore_cell` undoes the apostrophe when a sheet is read back.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL_LIMIT = 32_767  # characters Excel holds in one cell
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet may hold it: text neutralised against formulas, others unchanged."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = _ILLEGAL.sub("", value)
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text[:CELL_LIMIT]


def restore_cell(value: object) -> object:
    """A cell read back from a sheet this service wrote, without the apostrophe :func:`safe_cell` added."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value
