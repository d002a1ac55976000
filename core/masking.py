"""Personal data, masked one way on every path: crawl, inbox, API, ingest, search export, 台账, briefing.

:func:`mask_text` finds mobile numbers in every form people write them (``13812345678``,
``+86 138 1234 5678``, ``86-138-1234-5678``, full-width ``１３８１２３４５６７８``), resident ID numbers
of 18 and 15 digits and bank-card numbers, and keeps only what identifies the kind of number:

- a mobile number keeps its first three and last four digits: ``138****5678``;
- an ID number keeps its region code and its last four characters: ``110101********123X``;
- a bank card keeps its first four and last four digits: ``6222********1234``.

A display name keeps its family name (:func:`mask_name`). Who wrote a post is remembered by a
pseudonym (:func:`pseudonym`): an HMAC-SHA256 keyed with the deployment's secret
(``YUQING_AUTHOR_SALT``), so a masked phone beside its pseudonym cannot be brute-forced back to the
10,000 numbers it could be without that secret.

Everything here is pure and imports only the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_D = "[0-9\uff10-\uff19]"  # an ASCII or full-width digit (\d would also take Arabic-Indic digits)
_SEP = "[ \u00a0\u3000-]?"  # people group digits with a space (also no-break or full-width) or a dash
_NOT_DIGIT_BEFORE = rf"(?<!{_D})"
_NOT_DIGIT_AFTER = rf"(?!{_D})(?![A-Za-z])"

# 18 digits: region (6), birth date (yyyymmdd), sequence (3), check digit (digit or X).
_ID18 = re.compile(
    rf"{_NOT_DIGIT_BEFORE}((?:{_D}){{6}})(?:1[89]|20|１[８９]|２０){_D}{{2}}{_D}{{4}}"
    rf"({_D}{{3}}[0-9\uff10-\uff19XxＸｘ]){_NOT_DIGIT_AFTER}"
)
# 15 digits (first-generation cards, still on old records): region (6), yymmdd, sequence (3).
_ID15 = re.compile(rf"{_NOT_DIGIT_BEFORE}((?:{_D}){{6}}){_D}{{5}}({_D}{{4}}){_NOT_DIGIT_AFTER}")
# A mobile number: optional country code, 1[3-9]x, then 4 + 4 digits, each group optionally separated.
_MOBILE = re.compile(
    rf"(?<!{_D})(?:(?:[+＋]|00)?(?:86|８６){_SEP})?"
    rf"([1１][3-9３-９]{_D}){_SEP}({_D}{{4}}){_SEP}({_D}{{4}})(?!{_D})"
)
# A bank card: 16 to 19 digits, written solid or in groups; only a Luhn-valid run is a card.
_CARD = re.compile(rf"(?<!{_D})({_D}{{4}}(?:{_SEP}{_D}{{1,4}}){{3,5}})(?!{_D})")
_CJK = re.compile(r"[\u3400-\u9fff]+")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ＋", "0123456789Xx+")


def _ascii(value: str) -> str:
    return value.translate(_FULL_WIDTH)


def _date_ok(month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _mask_id18(match: re.Match[str]) -> str:
    digits = _ascii(match.group(0))
    if not _date_ok(digits[10:12], digits[12:14]):
        return match.group(0)  # not a birth date: some other 18-digit number, left to the card check
    return digits[:6] + "********" + digits[-4:]


def _mask_id15(match: re.Match[str]) -> str:
    digits = _ascii(match.group(0))
    if not _date_ok(digits[8:10], digits[10:12]):
        return match.group(0)  # a work-order number or a date stamp, not an ID
    return digits[:6] + "*****" + digits[-4:]


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", _ascii(match.group(0)))
    if not 16 <= len(digits) <= 19 or not _luhn(digits):
        return match.group(0)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_mobile(match: re.Match[str]) -> str:
    return _ascii(match.group(1)) + "****" + _ascii(match.group(3))


def mask_text(value: str) -> str:
    """``value`` with every mobile, ID and bank-card number in it masked (see the module docstring)."""
    # IDs first: their digits would otherwise look like a card; cards before phones for the same reason.
    value = _ID18.sub(_mask_id18, value)
    value = _ID15.sub(_mask_id15, value)
    value = _CARD.sub(_mask_card, value)
    return _MOBILE.sub(_mask_mobile, value)


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


def mobile_digits(value: str) -> str | None:
    """The 11 digits of a mobile number written in any common form, or ``None`` if it is not one.

    A caller's pseudonym is keyed on these digits, so ``+86 138-1234-5678`` and ``13812345678`` are
    the same person.
    """
    match = _MOBILE.fullmatch(value.strip())
    if match is None:
        return None
    return "".join(_ascii(group) for group in match.groups())


def pseudonym(value: str, *, scope: str, key: str) -> str:
    """A stable pseudonym for ``value`` (a name, an account, a phone) within ``scope`` (a board, a platform).

    HMAC-SHA256 keyed with the deployment's secret: without the key nobody can test candidates
    against it, however few there are. The scope is part of the message because a name (``匿名``, a
    nickname) only identifies someone within one board.
    """
    message = "\x1f".join((scope, value)).encode("utf-8")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()
