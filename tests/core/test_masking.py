"""The one masking function: every common way of writing a phone, ID or card number, and no more."""

from __future__ import annotations

import pytest

from core.masking import mask_name, mask_text, mobile_digits, pseudonym


@pytest.mark.parametrize(
    "written",
    [
        "13812345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "86-138-1234-5678",
        "0086 13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "１３８１２３４５６７８",
        "＋86 １３８ １２３４ ５６７８",
    ],
)
def test_a_mobile_number_in_every_common_form_is_masked(written: str) -> None:
    masked = mask_text(f"我的电话{written}，请回电")
    assert masked == "我的电话138****5678，请回电"


def test_id_numbers_of_18_and_15_digits_are_masked() -> None:
    assert mask_text("身份证110101199003071234") == "身份证110101********1234"
    assert mask_text("身份证11010119900307123X。") == "身份证110101********123X。"
    assert mask_text("ID110101199003071234") == "ID110101********1234"
    assert mask_text("老证号110101900307123") == "老证号110101*****7123"
    assert mask_text("身份证１１０１０１１９９００３０７１２３４") == "身份证110101********1234"


def test_bank_cards_are_masked_only_when_the_luhn_check_holds() -> None:
    assert mask_text("卡号6222021234567890128") == "卡号6222***********0128"
    assert mask_text("卡号 4111 1111 1111 1111 已冻结") == "卡号 4111********1111 已冻结"
    assert mask_text("卡号4111111111111112") == "卡号4111111111111112"  # fails Luhn: some other number


def test_numbers_that_are_not_personal_data_stay() -> None:
    for text in (
        "工单号202612050001234",  # 15 digits, but month 00: not an ID
        "受理时间20261205120000",
        "金额12345678901元",  # 11 digits not starting 1[3-9]
        "座机010-12345678",
        "电话1381234567890",  # 13 digits: not a mobile
    ):
        assert mask_text(text) == text


def test_masking_twice_changes_nothing() -> None:
    once = mask_text("电话+86 138 1234 5678，身份证110101199003071234，卡号6222021234567890128")
    assert mask_text(once) == once


def test_names_keep_the_family_name() -> None:
    assert mask_name("王小明") == "王**"
    assert mask_name("13812345678") == "138****5678"
    assert mask_name("张*") == "张*"


def test_mobile_digits_reads_any_form() -> None:
    assert mobile_digits("+86 138-1234-5678") == "13812345678"
    assert mobile_digits("１３８１２３４５６７８") == "13812345678"
    assert mobile_digits("010-12345678") is None


def test_a_pseudonym_is_keyed_stable_and_scoped() -> None:
    first = pseudonym("13812345678", scope="hotline", key="secret-a")
    assert first == pseudonym("13812345678", scope="hotline", key="secret-a")
    assert first != pseudonym("13812345678", scope="hotline", key="secret-b")
    assert first != pseudonym("13812345678", scope="board", key="secret-a")
    assert len(first) == 64
