"""The one frozen settings object of a process, built from ``YUQING_*`` variables at its entry point."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PREFIX = "YUQING_"
BRIEFING_KINDS = ("day", "week", "month")


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
    # The ledger's policy YAML (ticket classes, intake, reminders, contacts); the shipped one if unset.
    ledger_policy_file: Path | None = None
    topic_raw: str = "posts.raw"
    topic_enriched: str = "posts.enriched"
    topic_dlq: str = "posts.dlq"
    topic_partitions: int = 3
    # Tansu joins a group in about half the session timeout, so tests shorten it.
    kafka_session_timeout_ms: int = 10_000
    archive_index: str = "yuqing-posts"
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
    author_salt: str = ""
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
