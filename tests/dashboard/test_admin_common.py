"""Every 系统管理 change reports a ledger database that cannot be reached the same way, once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from dashboard.auth import Role, User
from dashboard.sections import admin_common


def test_a_change_that_finds_the_database_down_says_so_under_its_own_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    left: list[tuple[str, str, str]] = []
    monkeypatch.setattr(admin_common, "as_account_now", lambda callback: callback)
    monkeypatch.setattr(
        admin_common.flash, "leave", lambda key, level, message: left.append((key, level, message))
    )

    @admin_common.admin_action("flash_users")
    def change(services: Any, admin: User) -> None:
        raise OperationalError("UPDATE dashboard_users", {}, ConnectionRefusedError())

    change(None, User(username="admin", display_name="管理员", role=Role.ADMIN))
    assert left == [("flash_users", "error", admin_common.LEDGER_UNAVAILABLE)]
