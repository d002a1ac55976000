"""The scale-out deployment: compose.yaml, the Dockerfile and .dockerignore, checked without an engine.

There is no container engine here: PyPI ``compose-spec`` parses and validates compose.yaml, and these
tests check what the parser does not (``depends_on`` names, health ordering, secrets, named volumes),
that every process ``yuqing up`` runs has its service, that every command a service, a healthcheck or
docs/deploy.md gives is one the command line accepts, and that every ``COPY`` of the Dockerfile names a
file that exists and that .dockerignore lets into the build context.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

from yuqing.cli import build_parser
from yuqing.service import child_specs
from yuqing.settings import Settings

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DEPLOY_DOC = REPO / "docs" / "deploy.md"
# The long-running yuqing processes, as compose runs them (compose fills in each ${VAR:-default}).
PROCESSES = {
    "crawler": ["yuqing", "crawl", "--every", "${YUQING_CRAWL_EVERY_S:-300}"],
    "classify-worker": ["yuqing", "worker", "classify"],
    "index-worker": ["yuqing", "worker", "index"],
    "ledger-worker": ["yuqing", "worker", "ledger"],
    "scheduler": ["yuqing", "schedule"],  # mail settings from YUQING_SMTP_* in .env, never overridden
    "dashboard": ["yuqing", "dashboard", "--address", "0.0.0.0"],  # noqa: S104  the container's own interface
}
# Run once per start, before the workers that need their output.
ONE_SHOTS = {"models": ["yuqing", "models", "build"]}
# Each child of `yuqing up` (yuqing/service.py) and the service that runs the same command at scale.
UP_CHILDREN = {
    "worker-classify": "classify-worker",
    "worker-index": "index-worker",
    "worker-ledger": "ledger-worker",
    "crawl": "crawler",
    "scheduler": "scheduler",
    "dashboard": "dashboard",
}
WORKERS = ("classify-worker", "index-worker", "ledger-worker")
SERVERS = ("kafka", "elasticsearch", "postgres")
REQUIRED_SECRETS = ("POSTGRES_PASSWORD", "ELASTIC_PASSWORD", "YUQING_AUTHOR_SALT")
SOURCES_TARGET = "/etc/yuqing/sources.yaml"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE", re.IGNORECASE)
REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(?::?[-?][^}]*)?\}$")
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@\s]+:(?P<password>[^@\s]*)@")
DEFAULTED = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*):?-(?P<default>[^}]*)\}")


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
    one_shots = one_shot_services(model)
    for name, service in services.items():
        depends = _depends_on(service)
        for dependency, condition in depends.items():
            if dependency not in services:
                faults.append(f"services.{name}.depends_on: no service named {dependency!r}")
            elif condition == "service_healthy" and "healthcheck" not in services[dependency]:
                faults.append(f"services.{name}.depends_on.{dependency}: waits for a health it never reports")
        healthy_deps = bool(depends) and all(condition == "service_healthy" for condition in depends.values())
        health = service.get("healthcheck")
        if health is not None and not health.get("test") and not health.get("disable"):
            faults.append(f"services.{name}.healthcheck: no test (the image defines none)")
        if "healthcheck" not in service and not healthy_deps and name not in one_shots:
            faults.append(f"services.{name}: neither a healthcheck nor only healthy dependencies")
        if name in one_shots and str(service.get("restart", "no")) != "no":
            faults.append(f"services.{name}: others wait for it to finish, so it must not restart")
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/", "~", "$")) and source not in declared_volumes:
                faults.append(f"services.{name}.volumes: {source!r} is not a declared named volume")
        for key, value in _environment(service).items():
            faults.extend(
                f"services.{name}.environment.{key}: {fault}" for fault in _secret_faults(key, value)
            )
    return faults


def one_shot_services(model: dict[str, Any]) -> set[str]:
    """Services another one waits for to finish (``service_completed_successfully``): no healthcheck."""
    return {
        dependency
        for service in model.get("services", {}).values()
        for dependency, condition in _depends_on(service).items()
        if condition == "service_completed_successfully"
    }


def interpolated(argv: list[str]) -> list[str]:
    """``argv`` as compose passes it when no variable is set: each ``${VAR:-default}`` is its default.

    A ``${VAR}`` or ``${VAR:?message}`` left in a command has no value to check, so it is an error.
    """
    out = [DEFAULTED.sub(lambda match: match["default"], word) for word in argv]
    for word in out:
        if "${" in word:
            raise ValueError(f"{word!r}: a command may only use ${{VAR:-default}} references")
    return out


def cli_faults(argv: list[str]) -> list[str]:
    """Why ``argv`` is not a command the ``yuqing`` command line accepts (empty when it is)."""
    program, *args = interpolated(argv)
    if program != "yuqing":
        return [f"{argv!r}: runs {program!r}, not yuqing"]
    try:
        build_parser().parse_args(args)
    except SystemExit:  # argparse has printed why on stderr
        return [f"{argv!r}: the yuqing command line refuses it"]
    return []


def ignore_patterns(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore as (negated, regex) pairs in file order (Docker: the last match decides)."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        glob = line.removeprefix("!").strip().strip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", glob):
            if part in ("**", "**/"):
                regex += "(?:.*/)?" if part == "**/" else ".*"
            elif part == "*":
                regex += "[^/]*"
            elif part == "?":
                regex += "[^/]"
            else:
                regex += re.escape(part)
        patterns.append((negated, re.compile(f"{regex}$")))
    return patterns


def is_ignored(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether .dockerignore keeps ``path`` (relative to the context) out of the build context.

    A path is out when it or a folder above it is out, as Docker leaves out a folder's whole content.
    """
    parts = Path(path).parts
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        ignored = False
        for negated, pattern in patterns:
            if pattern.match(prefix):
                ignored = not negated
        if ignored:
            return True
    return False


def dockerfile_copies(text: str) -> list[list[str]]:
    """The sources of each ``COPY``/``ADD`` from the build context (flags and destination removed)."""
    copies = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        if not re.match(r"\s*(COPY|ADD)\s", line, re.IGNORECASE):
            continue
        words = shlex.split(line, comments=True)
        args = [word for word in words[1:] if not word.startswith("--")]
        if any(word.startswith("--from") for word in words[1:]):
            continue  # from another stage or image, not from the context
        copies.append(args[:-1])
    return copies


def build_faults(dockerfile: str, dockerignore: str, root: Path) -> list[str]:
    """COPY sources that are missing from ``root`` or that .dockerignore leaves out of the context."""
    patterns = ignore_patterns(dockerignore)
    faults = []
    for sources in dockerfile_copies(dockerfile):
        for source in sources:
            path = source.removeprefix("./").rstrip("/") or "."
            if not (root / path).exists():
                faults.append(f"COPY {source}: no such file in the repository")
            elif is_ignored(path, patterns):
                faults.append(f"COPY {source}: excluded by .dockerignore")
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
    assert set(model["services"]) == {*SERVERS, *PROCESSES, *ONE_SHOTS}


def test_every_process_of_yuqing_up_has_a_service_running_the_same_command(model: dict[str, Any]) -> None:
    children = {child.name: child.argv for child in child_specs(Settings())}
    assert set(children) == set(UP_CHILDREN), "a process of `yuqing up` has no service in compose.yaml"
    for child, service in UP_CHILDREN.items():
        command = interpolated(model["services"][service]["command"])
        argv = children[child]
        if argv[1:3] == ["-m", "yuqing"]:
            # The same subcommand (up to its first option) and the same options, values aside.
            assert _subcommand(command[1:]) == _subcommand(argv[3:]), (child, service)
            assert {w for w in argv if w.startswith("--")} <= {w for w in command if w.startswith("--")}
        else:  # the dashboard's child is Streamlit itself, which `yuqing dashboard` starts
            assert argv[1:4] == ["-m", "streamlit", "run"]
            assert command[:2] == ["yuqing", "dashboard"]


def _subcommand(argv: list[str]) -> list[str]:
    return list(itertools.takewhile(lambda word: not word.startswith("-"), argv))


def test_every_process_runs_its_command_from_the_repository_image(model: dict[str, Any]) -> None:
    for name, command in {**PROCESSES, **ONE_SHOTS}.items():
        service = model["services"][name]
        assert service["command"] == command
        assert service["build"]["context"] == "."
        assert service["image"] == "yuqing:local"


def test_every_process_is_wired_to_the_servers_through_its_environment(model: dict[str, Any]) -> None:
    for name in {**PROCESSES, **ONE_SHOTS}:
        service = model["services"][name]
        environment = _environment(service)
        assert environment["YUQING_BROKER_URL"] == "kafka://kafka:9092"
        # Elasticsearch runs with security on: every process signs in, the password from .env.
        assert environment["YUQING_ARCHIVE_URL"] == "http://elasticsearch:9200"
        assert environment["YUQING_ELASTIC_USERNAME"] == "elastic"
        assert environment["YUQING_ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD:?")
        assert environment["YUQING_LEDGER_URL"].startswith("postgresql+psycopg://yuqing:${POSTGRES_PASSWORD")
        assert environment["YUQING_HOME"] == "/data"
        assert environment["YUQING_AUTHOR_SALT"].startswith("${YUQING_AUTHOR_SALT:?")
        assert [entry["path"] for entry in service["env_file"]] == [".env"]
        assert any(isinstance(volume, str) and volume.endswith(":/data") for volume in service["volumes"])


def test_the_sources_file_is_mounted_read_only_where_the_settings_name_it(
    model: dict[str, Any], text: str
) -> None:
    for name in PROCESSES:
        service = model["services"][name]
        assert _environment(service)["YUQING_SOURCES_FILE"] == SOURCES_TARGET
        [mount] = [v for v in service["volumes"] if isinstance(v, dict) and v["target"] == SOURCES_TARGET]
        assert mount["type"] == "bind"
        assert mount["read_only"] is True
    # A missing file must stop the start, not become an empty directory (the parser drops the key).
    assert "create_host_path: false" in text
    assert "sources.yaml" in DOCKERIGNORE.read_text(encoding="utf-8")


def test_secrets_are_required_from_the_env_file(text: str) -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    for name in REQUIRED_SECRETS:
        assert f"${{{name}:?" in text, f"compose.yaml must refuse to start without {name}"
        assert re.search(rf"^{name}=$", example, re.MULTILINE), f".env.example must list {name}, empty"


@pytest.mark.parametrize("name", [*PROCESSES, *ONE_SHOTS])
def test_every_process_command_is_one_the_cli_accepts(model: dict[str, Any], name: str) -> None:
    assert cli_faults(model["services"][name]["command"]) == []


@pytest.mark.parametrize("name", PROCESSES)
def test_every_process_reports_health_with_a_real_command(model: dict[str, Any], name: str) -> None:
    test = model["services"][name]["healthcheck"]["test"]
    assert test[0] == "CMD"
    if test[1] == "yuqing":
        assert cli_faults(test[1:]) == []
    else:
        assert test[1:3] == ["python", "-c"]


def test_the_commands_docs_deploy_gives_are_services_and_cli_commands(model: dict[str, Any]) -> None:
    runs = re.findall(r"docker compose run ([^\n`]+)", DEPLOY_DOC.read_text(encoding="utf-8"))
    assert any("users add" in run for run in runs), "docs/deploy.md must show how to add the first admin"
    for run in runs:
        words = shlex.split(run.split("|")[0].split("<")[0])
        options_with_values = {"-v", "--volume", "-e", "--env", "--entrypoint"}
        while words[0].startswith("-"):
            words = words[2:] if words[0] in options_with_values else words[1:]
        service, *command = words
        assert service in model["services"], run
        assert cli_faults(command) == [], run


def test_workers_scale_and_wait_for_what_they_need(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in WORKERS:
        # A fixed container name or host port would make `--scale name=N` fail.
        assert "container_name" not in services[name]
        assert "ports" not in services[name]
    assert _depends_on(services["classify-worker"]) == {
        "kafka": "service_healthy",
        "models": "service_completed_successfully",
    }
    assert _depends_on(services["index-worker"]).keys() == {"kafka", "elasticsearch"}
    assert _depends_on(services["ledger-worker"]).keys() == {"kafka", "postgres"}
    assert services["models"]["restart"] == "no"


def test_servers_report_health_and_processes_wait_for_it(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in SERVERS:
        assert services[name]["healthcheck"]["test"], name
    assert _depends_on(services["crawler"]) == {"kafka": "service_healthy"}
    assert _depends_on(services["scheduler"]).keys() >= {"elasticsearch", "postgres"}
    assert _depends_on(services["dashboard"]).keys() >= {"elasticsearch", "postgres"}
    assert services["dashboard"]["ports"] == ["127.0.0.1:8501:8501"]
    environment = _environment(services["elasticsearch"])
    assert environment["xpack.security.enabled"] == "true"
    assert REFERENCE.match(environment["ELASTIC_PASSWORD"])


def _with_secrets(environment: dict[str, str]) -> dict[str, str]:
    """``environment`` as compose passes it with every ``${...}`` filled in by a dummy value."""

    def fill(match: re.Match[str]) -> str:
        return f"{match[1].lower()}-s3cret"

    return {key: re.sub(r"\$\{([A-Z_]+)[^}]*\}", fill, value) for key, value in environment.items()}


@pytest.mark.parametrize("name", [*PROCESSES, *ONE_SHOTS])
def test_every_yuqing_variable_compose_sets_is_a_valid_setting(model: dict[str, Any], name: str) -> None:
    # Unknown YUQING_ names are ignored at run time, so a misspelt one would be lost silently.
    environment = _with_secrets(_environment(model["services"][name]))
    fields = {f"YUQING_{field.name.upper()}" for field in dataclasses.fields(Settings)}
    assert {key for key in environment if key.startswith("YUQING_")} <= fields
    settings = Settings.from_env(environment)
    assert settings.elastic_username == "elastic" and settings.elastic_password == "elastic_password-s3cret"
    assert "elastic_password-s3cret" not in repr(settings)


def test_every_yuqing_variable_of_the_example_env_file_is_a_setting() -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*(YUQING_[A-Z0-9_]+)=", example, re.MULTILINE))
    fields = {f"YUQING_{field.name.upper()}" for field in dataclasses.fields(Settings)}
    assert named, ".env.example names no YUQING_ variable?"
    assert named - {"YUQING_AUTHOR_SALT"} <= fields


def test_topics_are_replicated_no_more_than_compose_has_brokers(model: dict[str, Any]) -> None:
    brokers = [
        name for name, service in model["services"].items() if "kafka" in str(service.get("image", ""))
    ]
    kafka = _environment(model["services"]["kafka"])
    for name in [*PROCESSES, *ONE_SHOTS]:
        settings = Settings.from_env(_with_secrets(_environment(model["services"][name])))
        # acks=all waits for min.insync.replicas copies: more than there are brokers blocks every write.
        assert settings.kafka_replication <= len(brokers)
        assert settings.kafka_min_insync_replicas <= settings.kafka_replication
        assert settings.elastic_replica_count is None  # auto: no replica on the one Elasticsearch node
    assert int(kafka["KAFKA_MIN_INSYNC_REPLICAS"]) <= len(brokers)
    assert int(kafka["KAFKA_DEFAULT_REPLICATION_FACTOR"]) <= len(brokers)


def test_the_elasticsearch_healthcheck_signs_in(model: dict[str, Any]) -> None:
    service = model["services"]["elasticsearch"]
    test = service["healthcheck"]["test"]
    command = test if isinstance(test, str) else " ".join(test)
    # With security on, an anonymous health request is refused (401) and the node never turns healthy.
    assert '-u "elastic:$${ELASTIC_PASSWORD}"' in command or '-u "elastic:${ELASTIC_PASSWORD}"' in command
    environment = _environment(service)
    assert environment["xpack.security.enabled"] == "true"


def test_compose_file_passes_the_checks_the_parser_leaves_out(model: dict[str, Any], text: str) -> None:
    assert structural_faults(model, text) == []


def test_only_the_example_env_file_is_in_the_repository() -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^POSTGRES_PASSWORD=$", example, re.MULTILINE), "the example must not carry a password"
    ignored = ignore_patterns(DOCKERIGNORE.read_text(encoding="utf-8"))
    assert is_ignored(".env", ignored)
    assert is_ignored(".env.production", ignored)
    assert not is_ignored(".env.example", ignored)


def test_every_copy_of_the_dockerfile_is_in_the_build_context() -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert dockerfile_copies(dockerfile), "the Dockerfile copies nothing?"
    assert build_faults(dockerfile, DOCKERIGNORE.read_text(encoding="utf-8"), REPO) == []


def test_the_image_holds_every_package_the_project_installs() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copies = dockerfile_copies(DOCKERFILE.read_text(encoding="utf-8"))
    copied = {source.removeprefix("./").rstrip("/") for sources in copies for source in sources}
    assert packages <= copied
    assert "pyproject.toml" in copied


def test_the_image_holds_neither_the_demo_site_nor_the_benchmarks() -> None:
    # They are devtools/'s own distribution (yuqing-devtools): not copied, not even in the build context.
    copies = dockerfile_copies(DOCKERFILE.read_text(encoding="utf-8"))
    copied = {source.removeprefix("./").rstrip("/") for sources in copies for source in sources}
    assert not {path for path in copied if path.split("/")[0] in {"devtools", "bench", "demo_site"}}
    assert is_ignored("devtools", ignore_patterns(DOCKERIGNORE.read_text(encoding="utf-8")))
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    included = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not {name for name in included if name.startswith(("bench", "demo_site", "devtools"))}


def test_the_image_installs_the_service_alone_with_cjk_fonts() -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert "fonts-noto-cjk" in dockerfile  # the briefing's chart labels are Chinese
    assert re.search(r"^RUN pip install \.$", dockerfile, re.MULTILINE)
    assert "--group" not in dockerfile  # tests, lint and torch stay out of the image
    assert re.search(r"^USER yuqing$", dockerfile, re.MULTILINE)


@pytest.mark.parametrize(
    ("dockerignore", "dockerfile", "fault"),
    [
        ("briefing\n", "COPY briefing ./briefing\n", "COPY briefing: excluded by .dockerignore"),
        ("**/briefing\n", "COPY briefing ./briefing\n", "COPY briefing: excluded by .dockerignore"),
        ("yuqing/*\n", "COPY yuqing/cli.py ./\n", "COPY yuqing/cli.py: excluded"),
        ("", "COPY no-such-dir ./x\n", "COPY no-such-dir: no such file"),
        ("", "COPY --chown=1:1 README.md missing.txt ./\n", "COPY missing.txt: no such file"),
    ],
    ids=["excluded-folder", "excluded-anywhere", "excluded-content", "missing", "missing-among-several"],
)
def test_a_broken_build_is_reported(dockerignore: str, dockerfile: str, fault: str) -> None:
    faults = build_faults(dockerfile, dockerignore, REPO)
    assert any(found.startswith(fault) for found in faults), faults


def test_an_exception_in_dockerignore_lets_a_file_back_in() -> None:
    patterns = ignore_patterns("docs\n!docs/deploy.md\n")
    assert is_ignored("docs/architecture.md", patterns)
    assert not is_ignored("yuqing", patterns)


@pytest.mark.parametrize(
    ("command", "fault"),
    [
        (["yuqing", "worker", "tokenize"], "refuses"),
        (["yuqing", "schedulez"], "refuses"),
        (["python", "-m", "yuqing", "crawl"], "not yuqing"),
        (["yuqing", "crawl", "--every", "${CRAWL_EVERY}"], "only use ${VAR:-default}"),
    ],
    ids=["unknown-stage", "unknown-command", "not-yuqing", "no-default"],
)
def test_a_command_the_cli_refuses_is_reported(command: list[str], fault: str) -> None:
    try:
        faults = cli_faults(command)
    except ValueError as exc:
        faults = [str(exc)]
    assert any(fault in found for found in faults), faults


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
        (
            '    restart: "no"\n    command: ["yuqing", "models", "build"]',
            '    restart: always\n    command: ["yuqing", "models", "build"]',
            "models: others wait for it to finish, so it must not restart",
        ),
        (
            "ELASTIC_PASSWORD: ${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD in .env}",
            "ELASTIC_PASSWORD: changeme",
            "ELASTIC_PASSWORD: a secret must be a ${...} reference",
        ),
        (
            '      test: ["CMD", "yuqing", "health", "broker", "ledger"]',
            '      x-test: ["CMD", "yuqing", "health", "broker", "ledger"]',
            "ledger-worker.healthcheck: no test",
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
        "one-shot-restarts",
        "literal-elastic-password",
        "healthcheck-without-test",
    ],
)
def test_a_broken_copy_is_rejected_with_the_fault(text: str, old: str, new: str, fault: str) -> None:
    assert old in text, "the test's anchor is gone from compose.yaml"
    broken = text.replace(old, new, 1)
    with pytest.raises(ValueError, match=re.escape(fault)):
        load(broken)
