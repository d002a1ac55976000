"""The one frozen settings object of a process, built from ``YUQING_*`` variables at its entry point."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PREFIX = "YUQING_"
BRIEFING_KINDS = ("day", "week", "month")
KAFKA_SECURITY = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class SettingsError(ValueError):
    """A ``YUQING_*`` variable holds a value the service cannot use.

    The message names the variable and what is wrong, never the value: it may be a password or a
    URL with a key in it, and it is shown on the sign-in page and in logs.
    """

    def __init__(self, name: str, value: str, reason: str) -> None:
        del value  # accepted so each call site says what was checked; deliberately not kept
        super().__init__(f"{PREFIX}{name.upper()}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Settings:
    """Which backends to use and where the embedded ones keep their files.

    ``broker_url`` is ``embedded`` (a durable SQLite log under ``home``) or ``kafka://host:port[,host:port]``;
    ``archive_url`` is ``embedded`` (SQLite FTS5 under ``home``) or an Elasticsearch ``http(s)://`` URL;
    ``ledger_url`` is a SQLAlchemy URL (SQLite under ``home`` by default, PostgreSQL at scale).
    """

    home: Path = Path("var")
    broker_url: str = "embedded"
    archive_url: str = "embedded"
    ledger_url: str = ""
    # The ledger's policy YAML (ticket classes, intake, reminders, contacts, units). Unset: the copy
    # 系统管理 saved under home (config/ledger-policy.yaml) if there is one, else the shipped file.
    ledger_policy_file: Path | None = None
    # The remit taxonomy YAML (topics, keywords, responsible units). Unset: the copy 系统管理 saved
    # under home (config/taxonomy.yaml) if there is one, else the shipped file.
    taxonomy_file: Path | None = None
    topic_raw: str = "posts.raw"
    topic_enriched: str = "posts.enriched"
    topic_dlq: str = "posts.dlq"
    topic_partitions: int = 3
    # Days a message stays on posts.raw and posts.enriched, and on posts.dlq (kept longer: a dead
    # letter waits for someone to read it and replay it).
    topic_retention_days: float = 14
    dlq_retention_days: float = 90
    # Tansu joins a group in about half the session timeout, so tests shorten it.
    kafka_session_timeout_ms: int = 10_000
    # Copies of every partition. 1 suits one broker (compose, a test server); a real cluster wants 3,
    # with kafka_min_insync 2, so that acks=all means "written to two brokers".
    kafka_replication: int = 1
    # min.insync.replicas of the topics the service creates; 0: one less than the replication, at least 1.
    kafka_min_insync: int = 0
    # PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; SASL logs in with kafka_username/kafka_password by
    # PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; TLS checks the brokers against kafka_ca_file (the
    # system's CAs if unset).
    kafka_security: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "PLAIN"
    kafka_username: str = ""
    kafka_password: str = dataclasses.field(default="", repr=False)
    kafka_ca_file: Path | None = None
    archive_index: str = "yuqing-posts"
    # Elasticsearch credentials: a user and password, or an API key (the base64 "id:key" string
    # Elasticsearch returns as ``encoded``); a user and password in YUQING_ARCHIVE_URL still work.
    elastic_username: str = ""
    elastic_password: str = dataclasses.field(default="", repr=False)
    elastic_api_key: str = dataclasses.field(default="", repr=False)
    # The CA that signed an https:// cluster's certificate (the system's CAs if unset).
    elastic_ca_file: Path | None = None
    # Replicas of each monthly index: "auto" is none on a one-node cluster (which could never place
    # one, and would stay yellow) and one as soon as there is a second data node; or a number.
    elastic_replicas: str = "auto"
    # Months of posts the Elasticsearch archive keeps after their month ends; 0 keeps everything.
    archive_retention_months: int = 0
    models_dir: Path | None = None
    sources_file: Path | None = None
    user_agent: str = "yuqing-monitor/0.1 (+public-opinion monitoring for a government office)"
    dashboard_port: int = 8501
    demo_port: int = 8600
    crawl_every_s: int = 60
    batch_size: int = 500
    # How many recent posts the classify worker remembers for near-duplicate events. Each costs
    # about 2.4 KB: 40,000 (most of a day of a city's posts) keeps a classify worker under 400 MB
    # (`yuqing bench pipeline`); a repost of a story older than the window starts a new event.
    event_memory: int = 40_000
    # Salt for hashing authors and callers; a per-deployment secret from the environment, never the repo.
    author_salt: str = dataclasses.field(default="", repr=False)
    # A dashboard session idle longer than this signs out by itself.
    session_idle_minutes: float = 30
    # A dashboard session ends this long after sign-in however busy it is (then sign in again).
    session_max_hours: float = 12
    # How many reverse proxies of ours stand before the dashboard: only then is X-Forwarded-For read
    # (the entry the outermost one appended) for throttling sign-ins by client. 0: never read it.
    dashboard_trusted_proxies: int = 0
    # The briefing template YAML (department, header, sections, recipients); the shipped one if unset.
    briefing_template_file: Path | None = None
    # An office's own Word file (.docx) the briefing is written into: placeholders such as {{单位}} and
    # {{期号}} filled, the body where a paragraph says {{正文}}. The built-in GB/T 9704 layout if unset.
    briefing_docx_template: Path | None = None
    # When the scheduled briefings are built, HH:MM in China time: the 舆情日报 of the day before every
    # day, a 周报 of the week before on Mondays, a 月报 of the month before on the 1st.
    briefing_at: str = "07:30"
    # Which briefings `yuqing schedule` builds: day, week and/or month, comma-separated.
    briefing_periods: str = "day"
    # How often `yuqing schedule` sends the ledger's due-soon and overdue reminders; 0 turns them off.
    remind_every_minutes: int = 15
    # Where `yuqing schedule` sends each saved search's alert (检索预警) once it fires: addresses
    # (mailto:…, wecom:https://…, dingtalk:https://…), comma-separated; none: shown on 值班监测 only.
    alert_recipients: str = ""
    # Notifications (reminders, the briefing). SMTP: security none, starttls or ssl; port 0 is the
    # usual one for it (25, 587, 465); login when a username is set. Secrets are never shown (repr).
    smtp_host: str = "localhost"
    smtp_port: int = 0
    smtp_sender: str = "yuqing@localhost"
    smtp_username: str = ""
    smtp_password: str = dataclasses.field(default="", repr=False)
    smtp_security: str = "none"
    # 钉钉 robots with 加签: ``access_token=SEC…`` pairs, comma-separated.
    dingtalk_secrets: str = dataclasses.field(default="", repr=False)
    # Tries per recipient on a transient failure, waiting notify_backoff_s, then twice that, …
    notify_attempts: int = 3
    notify_backoff_s: float = 2.0
    log_level: str = "INFO"
    log_format: str = "text"

    @property
    def broker_path(self) -> Path:
        """The embedded broker's database file."""
        return self.home / "broker.db"

    @property
    def archive_path(self) -> Path:
        """The embedded archive's database file."""
        return self.home / "archive.db"

    @property
    def model_path(self) -> Path:
        """The directory the default models are built into and loaded from."""
        return self.models_dir if self.models_dir is not None else self.home / "models"

    @property
    def config_dir(self) -> Path:
        """Where 系统管理 keeps the configuration it edits, with its audit file (``audit.jsonl``)."""
        return self.home / "config"

    @property
    def ledger_policy_path(self) -> Path | None:
        """The ledger policy file every process reads: ``ledger_policy_file``, else the copy edited on
        系统管理 under ``config_dir``, else None (the shipped file)."""
        return self.ledger_policy_file or _existing(self.config_dir / "ledger-policy.yaml")

    @property
    def taxonomy_path(self) -> Path | None:
        """The remit taxonomy file every process reads: ``taxonomy_file``, else the copy edited on
        系统管理 under ``config_dir``, else None (the shipped file)."""
        return self.taxonomy_file or _existing(self.config_dir / "taxonomy.yaml")

    @property
    def crawl_state_path(self) -> Path:
        """Where crawlers keep watermarks and seen ids between runs."""
        return self.home / "crawl"

    @property
    def ledger_sqlalchemy_url(self) -> str:
        """The ledger database, SQLite under ``home`` unless configured."""
        return self.ledger_url or f"sqlite:///{(self.home / 'ledger.db').resolve()}"

    @property
    def briefing_kinds(self) -> tuple[str, ...]:
        """The period kinds of ``briefing_periods`` in the order day, week, month."""
        named = {part.strip() for part in self.briefing_periods.split(",") if part.strip()}
        return tuple(kind for kind in BRIEFING_KINDS if kind in named)

    @property
    def alert_addresses(self) -> tuple[str, ...]:
        """The addresses of ``alert_recipients``, in their order."""
        return tuple(part.strip() for part in self.alert_recipients.split(",") if part.strip())

    @property
    def kafka_bootstrap(self) -> list[str]:
        """``host:port`` pairs of a ``kafka://`` broker URL."""
        if not self.broker_url.startswith("kafka://"):
            raise SettingsError("broker_url", self.broker_url, "not a kafka:// URL")
        return [part for part in self.broker_url.removeprefix("kafka://").split(",") if part]

    @property
    def kafka_min_insync_replicas(self) -> int:
        """``kafka_min_insync``, or one less than the replication (at least 1) when it is 0."""
        return self.kafka_min_insync or max(self.kafka_replication - 1, 1)

    @property
    def elastic_replica_count(self) -> int | None:
        """Replicas of each monthly index, None for "auto" (0 on one node, 1 with two or more)."""
        return None if self.elastic_replicas == "auto" else int(self.elastic_replicas)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from ``YUQING_<FIELD>`` variables; unknown ``YUQING_`` names are ignored."""
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(PREFIX + field.name.upper())
            if raw is None or raw == "":
                continue
            values[field.name] = _coerce(field.name, str(field.type), raw)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Reject combinations no backend can serve, with the variable that is wrong."""
        if self.broker_url != "embedded" and not self.broker_url.startswith("kafka://"):
            raise SettingsError("broker_url", self.broker_url, "use 'embedded' or kafka://host:port")
        if self.archive_url != "embedded" and not self.archive_url.startswith(("http://", "https://")):
            raise SettingsError("archive_url", self.archive_url, "use 'embedded' or an http(s):// URL")
        if self.log_format not in ("text", "json"):
            raise SettingsError("log_format", self.log_format, "use 'text' or 'json'")
        if self.smtp_security not in ("none", "starttls", "ssl"):
            raise SettingsError("smtp_security", self.smtp_security, "use 'none', 'starttls' or 'ssl'")
        if self.notify_attempts < 1:
            raise SettingsError("notify_attempts", str(self.notify_attempts), "must be >= 1")
        if self.event_memory < 1:
            raise SettingsError("event_memory", str(self.event_memory), "must be >= 1")
        unknown = {p.strip() for p in self.briefing_periods.split(",") if p.strip()} - set(BRIEFING_KINDS)
        if unknown:
            raise SettingsError("briefing_periods", self.briefing_periods, "use day, week and/or month")
        if any(":" not in address for address in self.alert_addresses):
            raise SettingsError(
                "alert_recipients",
                self.alert_recipients,
                "addresses are mailto:…, wecom:https://… or dingtalk:https://…",
            )
        if self.remind_every_minutes < 0:
            raise SettingsError("remind_every_minutes", str(self.remind_every_minutes), "must be >= 0")
        if self.batch_size < 1 or self.topic_partitions < 1:
            raise SettingsError("batch_size", str(self.batch_size), "batch size and partitions must be >= 1")
        self._validate_cluster()

    def _validate_cluster(self) -> None:
        """The Kafka and Elasticsearch cluster settings (issue 20); values are never echoed."""
        for name in ("topic_retention_days", "dlq_retention_days"):
            if not getattr(self, name) > 0:
                raise SettingsError(name, "", "must be a positive number of days")
        if self.kafka_replication < 1:
            raise SettingsError("kafka_replication", "", "must be >= 1")
        if self.kafka_min_insync < 0 or self.kafka_min_insync > self.kafka_replication:
            raise SettingsError(
                "kafka_min_insync", "", "must be between 1 and YUQING_KAFKA_REPLICATION (0: replication - 1)"
            )
        if self.kafka_security not in KAFKA_SECURITY:
            raise SettingsError("kafka_security", self.kafka_security, f"use {', '.join(KAFKA_SECURITY)}")
        if self.kafka_security.startswith("SASL_"):
            if self.kafka_sasl_mechanism not in SASL_MECHANISMS:
                raise SettingsError(
                    "kafka_sasl_mechanism", self.kafka_sasl_mechanism, f"use {', '.join(SASL_MECHANISMS)}"
                )
            if not self.kafka_username or not self.kafka_password:
                raise SettingsError(
                    "kafka_username", "", f"{self.kafka_security} needs YUQING_KAFKA_USERNAME and _PASSWORD"
                )
        elif self.kafka_username or self.kafka_password:
            raise SettingsError(
                "kafka_security", self.kafka_security, "a Kafka username needs SASL_PLAINTEXT or SASL_SSL"
            )
        if self.kafka_ca_file is not None and not self.kafka_security.endswith("SSL"):
            raise SettingsError("kafka_ca_file", "", "a CA file needs YUQING_KAFKA_SECURITY SSL or SASL_SSL")
        if self.elastic_api_key and (self.elastic_username or self.elastic_password):
            raise SettingsError("elastic_api_key", "", "use either an API key or a username and password")
        if bool(self.elastic_username) != bool(self.elastic_password):
            raise SettingsError("elastic_password", "", "set both YUQING_ELASTIC_USERNAME and _PASSWORD")
        if (self.elastic_username or self.elastic_api_key) and urlsplit(
            self.archive_url
        ).username is not None:
            raise SettingsError(
                "archive_url", "", "credentials in the URL and in YUQING_ELASTIC_USERNAME/API_KEY: use one"
            )
        if self.elastic_ca_file is not None and not self.archive_url.startswith("https://"):
            raise SettingsError("elastic_ca_file", "", "a CA file needs an https:// YUQING_ARCHIVE_URL")
        if self.elastic_replicas != "auto" and not (
            self.elastic_replicas.isascii() and self.elastic_replicas.isdigit()
        ):
            raise SettingsError("elastic_replicas", self.elastic_replicas, "use 'auto' or a number >= 0")
        if self.archive_retention_months < 0:
            raise SettingsError("archive_retention_months", "", "must be >= 0 (0 keeps every month)")


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _coerce(name: str, type_name: str, raw: str) -> object:
    if "int" in type_name:
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(name, raw, "not a whole number") from exc
    if "float" in type_name:
        try:
            return float(raw)
        except ValueError as exc:
            raise SettingsError(name, raw, "not a number") from exc
    if "Path" in type_name:
        return Path(raw)
    return raw


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``YUQING_*`` variables that rebuild ``settings`` in a child process."""
    out: dict[str, str] = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if value is None:
            continue
        out[PREFIX + field.name.upper()] = str(value.resolve() if isinstance(value, Path) else value)
    return out
