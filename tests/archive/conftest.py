"""Fixtures of the archive tests: one archive per backend, fresh for every test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from archive.base import Archive
from archive.elastic import ElasticArchive
from archive.embedded import EmbeddedArchive
from tests.servers import ServerProcess


@pytest.fixture
def es_url(noida_server: ServerProcess) -> str:
    """The noida-db Elasticsearch URL."""
    return str(noida_server.extra["es_url"])


@pytest.fixture
def es_index(es_url: str) -> Iterator[str]:
    """A fresh alias name; its monthly indices and template are deleted after the test."""
    name = f"yq-test-{uuid.uuid4().hex[:12]}"
    yield name
    with Elasticsearch(es_url, request_timeout=10) as client:
        # Deleting by wildcard is refused (action.destructive_requires_name): name each index.
        for index in client.indices.get(index=f"{name}-*", allow_no_indices=True, ignore_unavailable=True):
            client.indices.delete(index=index)
        if client.indices.exists_index_template(name=name):
            client.indices.delete_index_template(name=name)


@pytest.fixture
def elastic_archive(es_url: str, es_index: str) -> Iterator[ElasticArchive]:
    """An Elasticsearch archive on noida-db under a unique alias."""
    archive = ElasticArchive(es_url, index=es_index, request_timeout=10, max_retries=0, replicas=0)
    archive.ensure()
    yield archive
    archive.close()


@pytest.fixture
def embedded_archive(tmp_path: Path) -> Iterator[EmbeddedArchive]:
    """An embedded archive in a fresh file."""
    archive = EmbeddedArchive(tmp_path / "archive.db")
    archive.ensure()
    yield archive
    archive.close()


@pytest.fixture(params=["embedded", pytest.param("elastic", marks=pytest.mark.servers)])
def archive(request: pytest.FixtureRequest) -> Archive:
    """Each backend in turn: the contract suite runs once per implementation."""
    if request.param == "embedded":
        return request.getfixturevalue("embedded_archive")  # type: ignore[no-any-return]
    return request.getfixturevalue("elastic_archive")  # type: ignore[no-any-return]
