"""Secrets never reach a log line: webhook keys, tokens, passwords in URLs and bodies."""

from __future__ import annotations

import pytest

from core.redact import redact


@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        (
            "delivery failed url=https://oapi.dingtalk.com/robot/send?access_token=abc123def456&timestamp=1&sign=Zx%2B9",
            "abc123def456",
            "oapi.dingtalk.com/robot/send?access_token=***",
        ),
        (
            "POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
            "693a91f6",
            "webhook/send?key=***",
        ),
        (
            "connect postgresql://yuqing:S3cret!@db:5432/ledger failed",
            "S3cret!",
            "postgresql://db:5432/ledger failed",
        ),
        ("header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y", "eyJhbGciOiJIUzI1NiJ9", "Bearer ***"),
        ('body {"password": "hunter22", "user": "ops"}', "hunter22", '"user": "ops"'),
        ("GET /api/orders?page=2&appSecret=q1w2e3r4", "q1w2e3r4", "page=2&appSecret=***"),
    ],
)
def test_secrets_are_replaced_and_the_rest_stays(line: str, secret: str, kept: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert kept in cleaned


def test_a_line_without_secrets_is_unchanged() -> None:
    line = "event=batch stage=classify records=500 keyboard=1 monkey=2 https://example.gov.cn/list?page=3"
    assert redact(line) == line
