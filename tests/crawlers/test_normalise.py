"""The pure normalisation functions: whitespace, masking, pseudonyms, board times."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.china_time import CHINA_TZ
from core.masking import mask_name, mask_text, pseudonym
from crawlers.normalise import normalise_line, normalise_text, parse_board_time


def test_full_width_and_no_break_spaces_become_single_spaces_and_blank_lines_go():
    text = "　　您好！\u00a0 您反映的问题\t已收悉。\r\n\r\n　　\n\u200b感谢您的支持！  "
    assert normalise_text(text) == "您好！ 您反映的问题 已收悉。\n感谢您的支持！"
    assert normalise_line(" 小区\n停车费　上涨 ") == "小区 停车费 上涨"
    assert normalise_text(None) == normalise_line(None) == ""


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("联系电话13800138000，谢谢", "联系电话138****8000，谢谢"),
        ("电话：19912345678", "电话：199****5678"),
        ("身份证号11010519491231002X。", "身份证号110105********002X。"),
        ("身份证 110105194912310021", "身份证 110105********0021"),
        ("两个号码13800138000和15900001111", "两个号码138****8000和159****1111"),
        # Not a mobile number: too long, or a landline, or starting 12.
        ("银行卡 6222021234567890123", "银行卡 6222021234567890123"),
        ("座机 0731-88888888", "座机 0731-88888888"),
        ("编号12345678901", "编号12345678901"),
    ],
)
def test_mobile_and_id_numbers_are_masked_and_other_numbers_are_not(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小明", "王**"),
        ("欧阳娜娜", "欧***"),
        ("李**", "李**"),  # already masked by the board
        ("A00045581", "A0****81"),
        ("网友abc", "网***c"),
        ("zhangsan", "z******n"),
        ("13800138000", "138****8000"),
        ("匿", "*"),
    ],
)
def test_author_names_are_masked_the_way_boards_show_them(name, masked):
    assert mask_name(name) == masked


def test_author_pseudonym_is_stable_salted_and_scoped_to_the_board():
    first = pseudonym("王**", scope="demo-liuyan", key="s1")
    assert first == pseudonym("王**", scope="demo-liuyan", key="s1")
    assert first != pseudonym("王**", scope="demo-liuyan", key="s2")
    assert first != pseudonym("王**", scope="other-board", key="s1")
    assert len(first) == 64


def test_board_times_parse_with_the_first_matching_format_in_china_time():
    formats = ("%Y-%m-%d %H:%M:%S", "%Y年%m月%d日 %H:%M")
    assert parse_board_time(" 2024-05-29 00:25:00 ", formats) == datetime(2024, 5, 29, 0, 25, tzinfo=CHINA_TZ)
    assert parse_board_time("2024年5月29日 08:05", formats) == datetime(2024, 5, 29, 8, 5, tzinfo=CHINA_TZ)
    assert parse_board_time("昨天", formats) is None
    assert parse_board_time(None, formats) is None
