"""The dashboard process as the composition root starts it: its argv, its services, its entry script."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from yuqing.dashboard_launch import streamlit_argv
from yuqing.dashboard_services import build_services, services_for, services_from_env
from yuqing.settings import Settings, SettingsError


def test_launcher_serves_the_app_headless_on_the_configured_port() -> None:
    argv = streamlit_argv(Settings(dashboard_port=8555))
    assert argv[1:4] == ["-m", "streamlit", "run"]
    server = Path(argv[4])
    assert server.name == "dashboard_server.py" and server.is_file()  # st.App around dashboard_app.py
    assert server.with_name("dashboard_app.py").is_file()
    for flag in (
        "--server.headless=true",
        "--server.port=8555",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
    ):
        assert flag in argv
    # A container binds every interface so its published port reaches the server.
    assert "--server.address=0.0.0.0" in streamlit_argv(Settings(), address="0.0.0.0")  # noqa: S104


def test_the_services_open_nothing_until_used_and_migrate_the_ledger_once(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    services = build_services(settings)
    home = tmp_path / "home"
    assert not services.has_archive()
    assert not list(home.glob("*.db"))  # building opens no database
    engine = services.ledger()
    assert services.ledger() is engine
    tables = set(inspect(engine).get_table_names())
    assert {"ledger_tickets", "dashboard_users", "dashboard_sessions", "dashboard_alerts"} <= tables
    assert services.policy() is services.policy() and services.policy().due_soon_fraction > 0
    with services.unit_of_work() as uow:
        assert uow.holidays.entries() == []
    assert services.backlog() == {"classify": 0, "index": 0, "ledger": 0, "dead_letters": 0}
    assert services.saved_searches.path == home / "saved_searches.json"
    assert not (home / "archive.db").exists()  # the dashboard never creates an archive
    engine.dispose()


def test_one_set_of_services_per_settings_and_environment(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    assert services_for(settings) is services_for(Settings(home=tmp_path / "home"))
    environ = {"YUQING_HOME": str(tmp_path / "home"), "PATH": "/bin"}
    assert services_from_env(environ) is services_from_env({**environ, "PATH": "/usr/bin"})
    assert services_from_env(environ).settings == Settings.from_env(environ)
    with pytest.raises(SettingsError):
        services_from_env({"YUQING_ARCHIVE_URL": "ftp://archive.example"})
