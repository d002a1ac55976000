"""The fault suite, small (issue 19): 2,000 records with 1 % poison through noida-db's Kafka and
Elasticsearch while each worker is killed once, the archive is cut off for 3 s and the broker restarts.
Nothing may be lost or duplicated, and every poison record is dead-lettered exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.faults import FaultOptions, run_faults, synthetic_texts
from tests.conftest import REQUIRE_SERVERS
from yuqing.settings import Settings

pytestmark = [pytest.mark.servers, pytest.mark.slow]


@pytest.fixture
def noida_installed() -> None:
    try:
        import noida_db  # noqa: F401
    except ImportError as exc:
        if REQUIRE_SERVERS:
            pytest.fail(f"noida-db required (YUQING_REQUIRE_SERVERS=1) but not installed: {exc}")
        pytest.skip("noida-db is not installed (the test dependency group brings it)")


def test_the_small_fault_suite_loses_nothing_duplicates_nothing_and_dead_letters_each_poison_once(
    noida_installed: None, models_dir: Path, tmp_path: Path
) -> None:
    options = FaultOptions(
        posts=2000,
        poison_share=0.01,
        seed=19,
        kills=1,
        outage_s=3.0,
        broker_restarts=1,
        batch_size=100,
        timeout_s=300.0,
    )
    base = Settings(home=tmp_path / "home", models_dir=models_dir)
    result = run_faults(base, options, synthetic_texts(), tmp_path / "run")

    assert result["drained"], result
    fired = sorted(fault["fault"] for fault in result["faults"] if fault["at_s"] is not None)
    assert fired == [
        "archive-outage",
        "broker-restart",
        "kill -9 classify",
        "kill -9 index",
        "kill -9 ledger",
    ]
    assert result["worker_kills"] == {"classify": 1, "index": 1, "ledger": 1}
    assert result["worker_exits_by_themselves"] == []
    assert result["lost"] == 0, result["examples"]
    assert result["duplicated"] == 0
    assert result["archive"]["posts"] == 2000 - 20
    assert result["poison"] == 20
    assert result["dead_lettered"] == 20
    assert result["dead_lettered_exactly_once"]
    assert result["good_dead_lettered"] == 0
    assert set(result["poison_kinds"].values()) == {2}  # every kind, twice
    ledger = result["ledger"]
    assert ledger["expected"] > 0
    assert (ledger["lost"], ledger["duplicated"], ledger["unexpected"]) == (0, 0, 0)
