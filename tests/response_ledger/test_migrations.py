"""The one migration history of the ledger database, dashboard tables included, on SQLite and PostgreSQL:
a fresh database, one whose dashboard tables an earlier release made with ``create_all``, one from
the first releases (sign-ins without their later columns), and a downgrade."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, inspect, select, text

from core.china_time import CHINA_TZ
from dashboard import accounts, acks, sessions
from dashboard.accounts import Accounts
from dashboard.acks import AlertStore
from dashboard.alerts import Alert, AlertKind
from dashboard.auth import Role
from response_ledger.db import alembic_config, applied_revisions, make_engine, migrate
from response_ledger.migrations import HEAD_REVISION
from tests.response_ledger.conftest import LedgerDb, postgres_schema

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=CHINA_TZ)
GOOD = "yuqing-2026-ok"
DASHBOARD_TABLES = ("dashboard_users", "dashboard_signins", "dashboard_sessions", "dashboard_alerts")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Makes empty databases (no table, no migration): SQLite files, or new PostgreSQL schemas."""
    made: list[tuple[Iterator[LedgerDb], Engine]] = []

    def make() -> Engine:
        databases: Iterator[LedgerDb]
        if request.param == "sqlite":
            databases = iter([LedgerDb(f"sqlite:///{tmp_path / f'ledger{len(made)}.db'}", None)])
        else:
            databases = postgres_schema(request.getfixturevalue("postgres_url"))
        engine = next(databases).engine()
        made.append((databases, engine))
        return engine

    yield make
    for databases, engine in made:
        engine.dispose()
        next(databases, None)


def declared() -> MetaData:
    """The dashboard's tables as its modules declare them (what ``create_all`` made in earlier releases)."""
    merged = MetaData()
    for module in (accounts, sessions, acks):
        for table in module.metadata.sorted_tables:
            table.to_metadata(merged)
    return merged


def shape(engine: Engine, table: str) -> dict[str, Any]:
    """What a table is, as the database reports it: columns, key, indexes and unique constraints."""
    found = inspect(engine)
    return {
        "columns": [
            (c["name"], c["type"].compile(dialect=engine.dialect), c["nullable"])
            for c in found.get_columns(table)
        ],
        "key": found.get_pk_constraint(table)["constrained_columns"],
        "indexes": sorted(
            (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(table)
        ),
        "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table)),
    }


def as_declared(new_database: Callable[[], Engine]) -> dict[str, dict[str, Any]]:
    """The shape of every dashboard table when ``create_all`` makes it from the declarations."""
    engine = new_database()
    declared().create_all(engine)
    return {table: shape(engine, table) for table in DASHBOARD_TABLES}


def test_a_fresh_database_gets_the_dashboard_tables_exactly_as_declared(
    new_database: Callable[[], Engine],
) -> None:
    engine = new_database()
    migrate(engine)
    assert applied_revisions(engine) == [HEAD_REVISION]
    assert {table: shape(engine, table) for table in DASHBOARD_TABLES} == as_declared(new_database)
    store = Accounts(engine)
    store.add("duty1", "值班员甲", Role.DUTY, GOOD, NOW)
    assert store.sign_in("duty1", GOOD, NOW, client="203.0.113.7").username == "duty1"


@pytest.mark.parametrize("ledger", ["0001", None], ids=["ledger-migrated", "no-migration-yet"])
def test_tables_an_earlier_release_made_are_adopted_with_their_rows(
    new_database: Callable[[], Engine], ledger: str | None
) -> None:
    # What an earlier release left: its ledger at revision 0001 (or never migrated, when the ledger
    # worker had not run yet) and the dashboard's tables made by create_all, before notified_at.
    engine = new_database()
    if ledger is not None:
        migrate(engine, ledger)
    declared().create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE dashboard_alerts DROP COLUMN notified_at"))
    Accounts(engine).add("duty1", "值班员甲", Role.DUTY, GOOD, NOW)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO dashboard_alerts (id, kind, title, detail, at, raised_at) "
                "VALUES ('risk:x', 'risk', '风险 90', '详情', :at, :at)"
            ),
            {"at": NOW},
        )
    migrate(engine)
    assert applied_revisions(engine) == [HEAD_REVISION]
    assert {table: shape(engine, table) for table in DASHBOARD_TABLES} == as_declared(new_database)
    assert Accounts(engine).sign_in("duty1", GOOD, NOW).username == "duty1"
    store = AlertStore(engine)
    [kept] = store.active()
    assert kept.alert.id == "risk:x" and kept.notified_at is None
    assert store.claim_notification("risk:x", NOW) and not store.claim_notification("risk:x", NOW)
    migrate(engine)  # current: nothing to do


def test_sign_ins_of_the_first_releases_gain_the_later_columns(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE dashboard_signins (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "username VARCHAR(64) NOT NULL, at DATETIME NOT NULL, ok BOOLEAN NOT NULL)"
            )
        )
        conn.execute(text("INSERT INTO dashboard_signins (username, at, ok) VALUES ('old', '2026-01-01', 0)"))
    migrate(engine)
    columns = {column["name"] for column in inspect(engine).get_columns("dashboard_signins")}
    assert {"client", "locked"} <= columns
    assert "ix_dashboard_signins_client" in {
        index["name"] for index in inspect(engine).get_indexes("dashboard_signins")
    }
    store = Accounts(engine)
    store.add("newcomer", "新人", Role.DUTY, GOOD, NOW)
    assert store.sign_in("newcomer", GOOD, NOW, client="203.0.113.7").username == "newcomer"
    with engine.connect() as conn:
        assert conn.execute(
            select(accounts.signins.c.username).order_by(accounts.signins.c.id)
        ).scalars().all() == [
            "old",
            "newcomer",
        ]
    engine.dispose()


def test_the_dashboard_tables_downgrade_with_their_revision_and_come_back(
    new_database: Callable[[], Engine],
) -> None:
    from alembic import command

    engine = new_database()
    migrate(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    present = set(inspect(engine).get_table_names())
    assert not present & set(DASHBOARD_TABLES) and "ledger_tickets" in present
    migrate(engine)
    assert set(DASHBOARD_TABLES) <= set(inspect(engine).get_table_names())
    AlertStore(engine).record([Alert("risk:y", AlertKind.RISK, "标题", "详情", NOW)], NOW)
    with engine.connect() as conn:
        assert conn.execute(select(acks.alerts.c.notified_at)).scalars().all() == [None]
