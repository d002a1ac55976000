"""Settings come from YUQING_* variables once, are frozen and reject what no backend can serve."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from yuqing.settings import Settings, SettingsError, settings_env


def test_defaults_are_the_embedded_backends() -> None:
    settings = Settings.from_env({})
    assert (settings.broker_url, settings.archive_url) == ("embedded", "embedded")
    assert settings.ledger_sqlalchemy_url.startswith("sqlite:///")


def test_variables_select_kafka_elasticsearch_and_postgres() -> None:
    settings = Settings.from_env(
        {
            "YUQING_BROKER_URL": "kafka://k1:9092,k2:9092",
            "YUQING_ARCHIVE_URL": "http://es:9200",
            "YUQING_LEDGER_URL": "postgresql+psycopg://u@db/yuqing",
            "YUQING_BATCH_SIZE": "100",
            "YUQING_HOME": "/data",
        }
    )
    assert settings.kafka_bootstrap == ["k1:9092", "k2:9092"]
    assert settings.archive_url == "http://es:9200" and settings.batch_size == 100
    assert settings.home == Path("/data") and settings.ledger_sqlalchemy_url.startswith("postgresql")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("YUQING_BROKER_URL", "amqp://x", "BROKER_URL"),
        ("YUQING_ARCHIVE_URL", "es:9200", "ARCHIVE_URL"),
        ("YUQING_BATCH_SIZE", "many", "not a whole number"),
        ("YUQING_LOG_FORMAT", "xml", "LOG_FORMAT"),
        ("YUQING_BRIEFING_PERIODS", "day,daily", "BRIEFING_PERIODS"),
        ("YUQING_REMIND_EVERY_MINUTES", "-5", "REMIND_EVERY_MINUTES"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})


def test_the_briefing_periods_are_read_in_calendar_order() -> None:
    assert Settings().briefing_kinds == ("day",)
    assert Settings.from_env({"YUQING_BRIEFING_PERIODS": " month, day "}).briefing_kinds == ("day", "month")


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().broker_url = "kafka://x"  # type: ignore[misc]


def test_settings_env_rebuilds_the_same_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, broker_url="kafka://a:1", batch_size=7)
    rebuilt = Settings.from_env(settings_env(settings))
    assert rebuilt == dataclasses.replace(settings, home=tmp_path.resolve())


def test_a_settings_error_names_the_variable_but_never_echoes_its_value() -> None:
    secret = "kafka-with-password:hunter22"
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"YUQING_BROKER_URL": secret})
    assert "YUQING_BROKER_URL" in str(caught.value)
    assert "hunter22" not in str(caught.value) and secret not in repr(caught.value)
