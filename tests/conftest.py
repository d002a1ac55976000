"""Fixtures shared by the whole suite: real servers on loopback ports and per-test settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ServerProcess, noida, tansu
from yuqing.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
REQUIRE_SERVERS = os.environ.get("YUQING_REQUIRE_SERVERS") == "1"


def shared_data(relative: str) -> Path:
    """A file of ../shared/data, or a skip that says it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"../shared/data/{relative} is absent: real-data checks need the shared data folder")
    return path


@pytest.fixture(scope="session")
def tansu_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A Tansu broker for the session."""
    server = tansu(tmp_path_factory.mktemp("tansu"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def noida_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A noida-db (Elasticsearch 8 API + Kafka) for the session."""
    server = noida(tmp_path_factory.mktemp("noida"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """Settings for the embedded backends under a fresh home."""
    return Settings(home=tmp_path / "home")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The local PostgreSQL, or a skip (a failure when YUQING_REQUIRE_SERVERS=1)."""
    url = os.environ.get("YUQING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3):
            pass
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not reachable"
        if REQUIRE_SERVERS:
            pytest.fail(f"PostgreSQL required (YUQING_REQUIRE_SERVERS=1) but unreachable at {url}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default models, built once per test session exactly as `yuqing models build` does."""
    from classifiers.build import build_default_models

    directory = tmp_path_factory.mktemp("models")
    build_default_models(directory)
    return directory
