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


def test_cluster_settings_default_to_one_broker_and_one_node() -> None:
    settings = Settings.from_env({})
    assert (settings.kafka_replication, settings.kafka_min_insync_replicas) == (1, 1)
    assert (settings.topic_retention_days, settings.dlq_retention_days) == (14, 90)
    assert settings.kafka_security == "PLAINTEXT"
    assert settings.elastic_replica_count is None  # auto: none on one node, one with two or more
    assert settings.archive_retention_months == 0


def test_cluster_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "YUQING_BROKER_URL": "kafka://k1:9093,k2:9093,k3:9093",
            "YUQING_KAFKA_REPLICATION": "3",
            "YUQING_TOPIC_RETENTION_DAYS": "7",
            "YUQING_DLQ_RETENTION_DAYS": "180",
            "YUQING_KAFKA_SECURITY": "SASL_SSL",
            "YUQING_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "YUQING_KAFKA_USERNAME": "yuqing",
            "YUQING_KAFKA_PASSWORD": "kafka-hunter2",
            "YUQING_KAFKA_CA_FILE": str(tmp_path / "kafka-ca.pem"),
            "YUQING_ARCHIVE_URL": "https://es:9200",
            "YUQING_ELASTIC_API_KEY": "es-api-key-hunter2",
            "YUQING_ELASTIC_CA_FILE": str(tmp_path / "es-ca.pem"),
            "YUQING_ELASTIC_REPLICAS": "2",
            "YUQING_ARCHIVE_RETENTION_MONTHS": "24",
        }
    )
    # min.insync.replicas follows the replication: 3 copies, a write is acknowledged by 2.
    assert (settings.kafka_replication, settings.kafka_min_insync_replicas) == (3, 2)
    assert (settings.topic_retention_days, settings.dlq_retention_days) == (7.0, 180.0)
    assert (settings.kafka_security, settings.kafka_sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert settings.kafka_ca_file == tmp_path / "kafka-ca.pem"
    assert settings.elastic_replica_count == 2 and settings.archive_retention_months == 24
    shown = repr(settings)
    assert "kafka-hunter2" not in shown and "es-api-key-hunter2" not in shown
    rebuilt = Settings.from_env(settings_env(settings))
    assert rebuilt == dataclasses.replace(settings, home=settings.home.resolve())


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"YUQING_KAFKA_REPLICATION": "0"}, "KAFKA_REPLICATION"),
        ({"YUQING_KAFKA_REPLICATION": "2", "YUQING_KAFKA_MIN_INSYNC": "3"}, "KAFKA_MIN_INSYNC"),
        ({"YUQING_DLQ_RETENTION_DAYS": "0"}, "DLQ_RETENTION_DAYS"),
        ({"YUQING_TOPIC_RETENTION_DAYS": "two weeks"}, "not a number"),
        ({"YUQING_KAFKA_SECURITY": "TLS"}, "KAFKA_SECURITY"),
        (
            {"YUQING_KAFKA_SECURITY": "SASL_SSL", "YUQING_KAFKA_SASL_MECHANISM": "GSSAPI"},
            "KAFKA_SASL_MECHANISM",
        ),
        ({"YUQING_KAFKA_SECURITY": "SASL_PLAINTEXT", "YUQING_KAFKA_USERNAME": "u"}, "KAFKA_USERNAME"),
        ({"YUQING_KAFKA_USERNAME": "u", "YUQING_KAFKA_PASSWORD": "hunter2"}, "KAFKA_SECURITY"),
        ({"YUQING_KAFKA_CA_FILE": "/ca.pem"}, "KAFKA_CA_FILE"),
        (
            {"YUQING_ELASTIC_API_KEY": "k", "YUQING_ELASTIC_USERNAME": "u", "YUQING_ELASTIC_PASSWORD": "p"},
            "ELASTIC_API_KEY",
        ),
        ({"YUQING_ELASTIC_USERNAME": "elastic"}, "ELASTIC_PASSWORD"),
        ({"YUQING_ARCHIVE_URL": "http://es:9200", "YUQING_ELASTIC_CA_FILE": "/ca.pem"}, "ELASTIC_CA_FILE"),
        (
            {"YUQING_ARCHIVE_URL": "http://elastic:pw@es:9200", "YUQING_ELASTIC_API_KEY": "k"},
            "ARCHIVE_URL",
        ),
        ({"YUQING_ELASTIC_REPLICAS": "two"}, "ELASTIC_REPLICAS"),
        ({"YUQING_ARCHIVE_RETENTION_MONTHS": "-1"}, "ARCHIVE_RETENTION_MONTHS"),
    ],
    ids=[
        "no-replication",
        "insync-above-replication",
        "dlq-retention-zero",
        "retention-not-a-number",
        "unknown-protocol",
        "unsupported-mechanism",
        "sasl-without-password",
        "user-without-sasl",
        "ca-without-tls",
        "api-key-and-password",
        "user-without-password",
        "ca-without-https",
        "url-and-api-key",
        "replicas-not-a-number",
        "negative-retention",
    ],
)
def test_bad_cluster_settings_name_the_variable(variables: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(variables)


@pytest.mark.parametrize(
    "variables",
    [
        {"YUQING_KAFKA_SECURITY": "SASL_SSL", "YUQING_KAFKA_SASL_MECHANISM": "hunter2-mechanism"},
        {"YUQING_KAFKA_SECURITY": "hunter2-protocol"},
        {"YUQING_KAFKA_USERNAME": "u", "YUQING_KAFKA_PASSWORD": "hunter2-password"},
        {
            "YUQING_ELASTIC_API_KEY": "hunter2-key",
            "YUQING_ELASTIC_USERNAME": "u",
            "YUQING_ELASTIC_PASSWORD": "x",
        },
        {"YUQING_ELASTIC_PASSWORD": "hunter2-password"},
        {"YUQING_ELASTIC_REPLICAS": "hunter2-replicas"},
    ],
)
def test_cluster_settings_errors_never_echo_values(variables: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(variables)
    assert "hunter2" not in str(caught.value) and "hunter2" not in repr(caught.value)


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = Settings(author_salt="salt-secret", smtp_password="smtp-secret")
    assert "salt-secret" not in repr(settings) and "smtp-secret" not in repr(settings)
