"""Masking of personal data, defined once: every path that shows or stores a citizen's text uses it.

Mobile numbers keep their first three and last four digits, resident ID numbers their region code
and last four characters; a display name keeps its family name.
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")
_CJK = re.compile(r"[\u3400-\u9fff]+")


def mask_text(value: str) -> str:
    """Mask 18-digit ID numbers (keep region code and last four) and mobile numbers (keep 3 + 4 digits)."""
    # The digit boundaries keep either pattern from matching inside a longer number (a bank account).
    value = _ID_NUMBER.sub(r"\1********\2", value)
    return _MOBILE.sub(r"\1****\2", value)


def mask_name(name: str) -> str:
    """A display name as boards show it: ``王**`` for a Chinese name, ``A0****81`` for an account id."""
    name = name.strip()
    if not name or "*" in name:
        return name  # already masked by the board
    if _MOBILE.fullmatch(name):
        return mask_text(name)
    if len(name) == 1:
        return "*"
    if _CJK.fullmatch(name) or len(name) <= 4:
        return name[0] + "*" * (len(name) - 1)  # a personal name: only the family name stays
    if len(name) <= 8:
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return name[:2] + "****" + name[-2:]
