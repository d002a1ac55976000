"""compose.yaml is a valid Compose file whose services start in order and hold no secrets.

There is no Docker engine here: PyPI ``compose-spec`` parses and validates the file, and these tests
check what the parser does not (``depends_on`` names, health ordering, secrets, named volumes).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

from yuqing.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "compose.yaml"
PROCESSES = {
    "crawler": ["yuqing", "crawl", "--every", "300"],
    "classify-worker": ["yuqing", "worker", "classify"],
    "index-worker": ["yuqing", "worker", "index"],
    "dashboard": ["yuqing", "dashboard", "--address", "0.0.0.0"],  # noqa: S104  the container's own interface
}
SERVERS = ("kafka", "elasticsearch", "postgres")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE", re.IGNORECASE)
REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(?::?[-?][^}]*)?\}$")
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@\s]+:(?P<password>[^@\s]*)@")


def load(text: str) -> dict[str, Any]:
    """Validate ``text`` with the Compose parser, then check what it leaves out; return the model."""
    compose = PyCompose.from_yaml(text)
    compose.validate()
    model = compose.to_dict()
    faults = structural_faults(model, text)
    if faults:
        raise ValueError("; ".join(faults))
    return model


def structural_faults(model: dict[str, Any], text: str) -> list[str]:
    """Faults the Compose parser accepts: unknown dependencies, unhealthy ordering, literal secrets."""
    faults: list[str] = []
    if "version" in (yaml.safe_load(text) or {}):
        faults.append("top-level `version:` is obsolete in the Compose spec")
    services: dict[str, dict[str, Any]] = model.get("services", {})
    declared_volumes = set(model.get("volumes", {}))
    for name, service in services.items():
        depends = _depends_on(service)
        for dependency, condition in depends.items():
            if dependency not in services:
                faults.append(f"services.{name}.depends_on: no service named {dependency!r}")
            elif condition == "service_healthy" and "healthcheck" not in services[dependency]:
                faults.append(f"services.{name}.depends_on.{dependency}: waits for a health it never reports")
        healthy_deps = bool(depends) and all(condition == "service_healthy" for condition in depends.values())
        if "healthcheck" not in service and not healthy_deps:
            faults.append(f"services.{name}: neither a healthcheck nor only healthy dependencies")
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/", "~", "$")) and source not in declared_volumes:
                faults.append(f"services.{name}.volumes: {source!r} is not a declared named volume")
        for key, value in _environment(service).items():
            faults.extend(
                f"services.{name}.environment.{key}: {fault}" for fault in _secret_faults(key, value)
            )
    return faults


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on", {})
    if isinstance(depends, list):  # the short form waits only for the start, never for health
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def _secret_faults(key: str, value: str) -> list[str]:
    faults = []
    if SECRET_NAME.search(key) and value and not REFERENCE.match(value):
        faults.append("a secret must be a ${...} reference to .env, not a literal")
    url = URL_PASSWORD.match(value)
    if url and not REFERENCE.match(url["password"]):
        faults.append("the password in this URL must be a ${...} reference to .env")
    return faults


@pytest.fixture(scope="module")
def text() -> str:
    """The repository's compose.yaml."""
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def model(text: str) -> dict[str, Any]:
    """compose.yaml, validated."""
    return load(text)


def test_compose_file_is_valid_and_has_no_version_key(model: dict[str, Any], text: str) -> None:
    assert "version" not in yaml.safe_load(text)
    assert set(model["services"]) == {*SERVERS, *PROCESSES}


def test_every_process_runs_its_command_from_the_repository_image(model: dict[str, Any]) -> None:
    for name, command in PROCESSES.items():
        service = model["services"][name]
        assert service["command"] == command
        assert service["build"]["context"] == "."
        assert service["image"] == "yuqing:local"


def test_every_process_is_wired_to_the_servers_through_its_environment(model: dict[str, Any]) -> None:
    for name in PROCESSES:
        service = model["services"][name]
        environment = _environment(service)
        assert environment["YUQING_BROKER_URL"] == "kafka://kafka:9092"
        assert environment["YUQING_ARCHIVE_URL"] == "http://elasticsearch:9200"
        assert environment["YUQING_LEDGER_URL"].startswith("postgresql+psycopg://yuqing:${POSTGRES_PASSWORD")
        assert environment["YUQING_HOME"] == "/data"
        assert [entry["path"] for entry in service["env_file"]] == [".env"]
        assert any(volume.endswith(":/data") for volume in service["volumes"])


@pytest.mark.parametrize(
    "name",
    PROCESSES,
)
def test_every_process_command_is_one_the_cli_accepts(model: dict[str, Any], name: str) -> None:
    program, *argv = model["services"][name]["command"]
    assert program == "yuqing"
    build_parser().parse_args(argv)


def test_servers_report_health_and_processes_wait_for_it(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in SERVERS:
        assert services[name]["healthcheck"]["test"], name
    assert _depends_on(services["crawler"]) == {"kafka": "service_healthy"}
    assert _depends_on(services["index-worker"]).keys() >= {"kafka", "elasticsearch"}
    assert _depends_on(services["dashboard"]).keys() >= {"elasticsearch", "postgres"}
    assert services["dashboard"]["ports"] == ["127.0.0.1:8501:8501"]


def test_compose_file_passes_the_checks_the_parser_leaves_out(model: dict[str, Any], text: str) -> None:
    assert structural_faults(model, text) == []


def test_only_the_example_env_file_is_in_the_repository() -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^POSTGRES_PASSWORD=$", example, re.MULTILINE), "the example must not carry a password"
    assert ".env" in (REPO / ".dockerignore").read_text(encoding="utf-8").split()


@pytest.mark.parametrize(
    ("old", "new", "fault"),
    [
        ("condition: service_healthy", "condition: when_ready", "condition"),
        ("interval: 10s", "interval: often", "interval"),
        (
            "    depends_on:\n      kafka:",
            "    depends_on:\n      zookeeper:",
            "no service named 'zookeeper'",
        ),
        ("name: yuqing\n", "name: yuqing\nversion: '3.8'\n", "version"),
        (
            "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}",
            "POSTGRES_PASSWORD: hunter2",
            "POSTGRES_PASSWORD: a secret must be a ${...} reference",
        ),
        (
            "yuqing:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}@",
            "yuqing:hunter2@",
            "password in this URL",
        ),
        ("      - pg-data:/var/lib/postgresql/data", "      - pgdata:/var/lib/postgresql/data", "'pgdata'"),
        (
            '    networks: [backend]\n    healthcheck:\n      test: ["CMD-SHELL", "pg_isready',
            ('    networks: [backend]\n    x-no-health:\n      test: ["CMD-SHELL", "pg_isready'),
            "postgres: waits for a health it never reports",
        ),
    ],
    ids=[
        "condition",
        "duration",
        "unknown-dependency",
        "version",
        "literal-password",
        "url-password",
        "undeclared-volume",
        "missing-healthcheck",
    ],
)
def test_a_broken_copy_is_rejected_with_the_fault(text: str, old: str, new: str, fault: str) -> None:
    assert old in text, "the test's anchor is gone from compose.yaml"
    broken = text.replace(old, new, 1)
    with pytest.raises(ValueError, match=re.escape(fault)):
        load(broken)
