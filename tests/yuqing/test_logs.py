"""Log lines never carry a secret, in text or JSON format, tracebacks included."""

from __future__ import annotations

import json
import logging

import pytest

from yuqing.logs import configure_logging
from yuqing.settings import Settings

HOOK = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_failed_webhook_is_logged_without_its_key(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(log_format=log_format))
    log = logging.getLogger("yuqing.test")
    log.warning("event=delivery-failed url=%s", HOOK)
    try:
        raise ConnectionError(f"cannot reach {HOOK}")
    except ConnectionError:
        log.exception("event=delivery-crashed")
    err = capsys.readouterr().err
    assert "0123456789abcdef" not in err
    assert err.count("access_token=***") == 2  # the warning and the traceback's exception line
    if log_format == "json":
        assert all(json.loads(line)["level"] for line in err.splitlines() if line.startswith("{"))
