"""The Elasticsearch archive on a real cluster: credentials, TLS, replicas and retention.

What the client sends is checked on a loopback server that records each request (plain HTTP and
TLS with a CA of the test's own); replicas and the retention job on noida-db, which has no ILM
(so the archive falls back to its own retention job, as it logs); the ILM path on the recording
server, which answers ILM's requests as Elasticsearch does.
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from elasticsearch import Elasticsearch

from archive.elastic import ElasticArchive
from archive.elastic_cluster import (
    ElasticAuth,
    client_kwargs,
    expired_months,
    expiry,
    lifecycle_policy,
    origination_ms,
    replica_settings,
)
from archive.errors import ArchiveUnavailable
from core.china_time import CHINA_TZ
from tests.archive.samples import dataset
from yuqing.scheduler import archive_retention_job
from yuqing.settings import Settings


def test_client_kwargs_for_each_kind_of_credentials() -> None:
    assert client_kwargs(None) == {}
    assert client_kwargs(ElasticAuth()) == {}
    assert client_kwargs(ElasticAuth(username="elastic", password="pw")) == {
        "basic_auth": base64.b64encode(b"elastic:pw").decode()
    }
    assert client_kwargs(ElasticAuth(api_key="a2V5", ca_file="/ca.pem")) == {
        "api_key": "a2V5",
        "ca_certs": "/ca.pem",
    }
    with pytest.raises(ValueError, match="either"):
        client_kwargs(ElasticAuth(username="u", password="p", api_key="k"))
    assert "pw" not in repr(ElasticAuth(username="elastic", password="pw", api_key="pw"))


def test_replica_settings() -> None:
    # Auto: none on one node (which can never place a replica and would stay yellow), one with two or more.
    assert replica_settings(None) == {"number_of_replicas": 0, "auto_expand_replicas": "0-1"}
    assert replica_settings(2) == {"number_of_replicas": 2, "auto_expand_replicas": "false"}


def test_a_month_expires_on_the_first_day_after_the_retention() -> None:
    assert expiry("2024.05", 12) == datetime(2025, 6, 1, tzinfo=CHINA_TZ)
    assert expiry("2024.11", 1) == datetime(2025, 1, 1, tzinfo=CHINA_TZ)
    months = ["2024.04", "2024.05", "2024.06"]
    assert expired_months(months, 1, datetime(2024, 7, 15, tzinfo=CHINA_TZ)) == ["2024.04", "2024.05"]
    assert expired_months(months, 1, datetime(2024, 6, 30, 23, 59, tzinfo=CHINA_TZ)) == ["2024.04"]
    assert expired_months(months, 0, datetime(2030, 1, 1, tzinfo=CHINA_TZ)) == []
    # ILM counts whole days from the origination date: placed so that the policy falls due on expiry.
    for month, retention in [("2024.02", 1), ("2024.05", 12), ("2023.12", 36)]:
        policy_age = lifecycle_policy(retention)["phases"]["delete"]["min_age"]
        assert policy_age == f"{31 * retention}d"
        due = datetime.fromtimestamp(origination_ms(month, retention) / 1000, CHINA_TZ) + timedelta(
            days=31 * retention
        )
        assert due == expiry(month, retention)


class _Recorder(BaseHTTPRequestHandler):
    """Answers like an empty Elasticsearch 8 and records every request (method, path, auth, body)."""

    requests: ClassVar[list[dict[str, Any]]] = []
    ilm: ClassVar[bool] = True

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _record(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        body = lines[0] if len(lines) == 1 else lines
        self.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "body": body,
            }
        )
        return body

    def do_HEAD(self) -> None:
        self._record()
        self._reply(404, {})  # no index or alias yet

    def do_GET(self) -> None:
        self._record()
        self._reply(200, {})

    def do_PUT(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        body = self._record()
        if self.path.startswith("/_ilm/") and not self.ilm:
            message = f"no handler found for uri [{self.path}] and method [{self.command}]"
            self._reply(400, {"error": message, "status": 400})
        elif "_bulk" in self.path:
            items = [
                {"index": {"_id": line["index"]["_id"], "status": 201}} for line in body if "index" in line
            ]
            self._reply(200, {"errors": False, "items": items})
        elif "_search" in self.path:
            self._reply(
                200, {"timed_out": False, "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}
            )
        else:  # policies, templates, index creation
            self._reply(200, {"acknowledged": True})

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(handler: type[_Recorder], context: ssl.SSLContext | None = None) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if context is not None else "http"
    yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def recorder() -> Iterator[tuple[str, type[_Recorder]]]:
    """A recording loopback cluster with ILM."""
    handler = type("Handler", (_Recorder,), {"requests": []})
    for url in _serve(handler):
        yield url, handler


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, made by openssl."""
    cert, key = tmp_path / "ca.pem", tmp_path / "key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate for the TLS test")
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("auth", "userinfo", "header"),
    [
        # Neither URL-safe nor ASCII: sent as UTF-8, as Elasticsearch reads it.
        (ElasticAuth(username="elastic", password="pä ss"), "", "Basic " + _b64("elastic:pä ss")),
        (ElasticAuth(api_key="aWQ6a2V5"), "", "ApiKey aWQ6a2V5"),
        (None, "elastic:url-pass@", "Basic " + _b64("elastic:url-pass")),
    ],
    ids=["user-password", "api-key", "credentials-in-the-url"],
)  # fmt: skip
def test_every_request_carries_the_credentials(
    recorder: tuple[str, type[_Recorder]], auth: ElasticAuth | None, userinfo: str, header: str
) -> None:
    url, handler = recorder
    archive = ElasticArchive(url.replace("://", f"://{userinfo}"), index="yq-auth", max_retries=0, auth=auth)
    archive.index([dataset()["parking_board"]])
    archive.count()
    archive.close()
    assert handler.requests
    assert {request["auth"] for request in handler.requests} == {header}


def test_an_https_cluster_is_checked_against_the_ca_file(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    handler = type("Handler", (_Recorder,), {"requests": []})
    for url in _serve(handler, context):
        trusted = ElasticArchive(
            url,
            index="yq-tls",
            max_retries=0,
            auth=ElasticAuth(username="elastic", password="pw", ca_file=str(cert)),
        )
        assert trusted.count() == 0
        trusted.close()
        # Without the CA the certificate is unknown: the cluster is unreachable, never trusted blindly.
        stranger = ElasticArchive(url, index="yq-tls", max_retries=0, request_timeout=5)
        with pytest.raises(ArchiveUnavailable):
            stranger.count()
        stranger.close()
    assert handler.requests and handler.requests[0]["auth"].startswith("Basic ")


def test_with_ilm_the_template_attaches_a_delete_policy_and_months_carry_their_origin(
    recorder: tuple[str, type[_Recorder]],
) -> None:
    url, handler = recorder
    archive = ElasticArchive(url, index="yq-ilm", max_retries=0, retention_months=12, replicas=1)
    archive.index([dataset()["bikes_board"]])  # published in May 2024
    archive.close()
    by_path = {(r["method"], r["path"].split("?")[0]): r["body"] for r in handler.requests}
    policy = by_path["PUT", "/_ilm/policy/yq-ilm-retention"]["policy"]
    assert policy["phases"]["delete"] == {"min_age": "372d", "actions": {"delete": {}}}
    settings = by_path["PUT", "/_index_template/yq-ilm"]["template"]["settings"]
    assert settings["index.lifecycle.name"] == "yq-ilm-retention"
    assert settings["number_of_replicas"] == 1
    created = by_path["PUT", "/yq-ilm-2024.05"]
    assert created["settings"] == {"index.lifecycle.origination_date": origination_ms("2024.05", 12)}
    assert created["aliases"] == {"yq-ilm": {}}


@pytest.mark.servers
def test_the_template_sets_the_replicas_and_ensure_applies_them_to_existing_months(
    es_url: str, es_index: str
) -> None:
    archive = ElasticArchive(es_url, index=es_index, max_retries=0)  # replicas: auto
    archive.index([dataset()["bikes_board"]])
    archive.close()
    with Elasticsearch(es_url, request_timeout=10) as client:
        template = client.indices.get_index_template(name=es_index)["index_templates"][0]
        settings = template["index_template"]["template"]["settings"]["index"]
        assert (settings["number_of_replicas"], settings["auto_expand_replicas"]) == ("0", "0-1")
        month = f"{es_index}-2024.05"
        assert (
            client.indices.get_settings(index=month)[month]["settings"]["index"]["auto_expand_replicas"]
            == "0-1"
        )
        # A later start with two replicas: the template and the month that exists both follow.
        two = ElasticArchive(es_url, index=es_index, max_retries=0, replicas=2)
        two.ensure()
        two.close()
        index_settings = client.indices.get_settings(index=month)[month]["settings"]["index"]
        assert (index_settings["number_of_replicas"], index_settings["auto_expand_replicas"]) == (
            "2",
            "false",
        )


@pytest.mark.servers
def test_without_ilm_the_retention_job_deletes_expired_months(
    es_url: str, es_index: str, caplog: pytest.LogCaptureFixture
) -> None:
    posts = dataset()
    archive = ElasticArchive(es_url, index=es_index, max_retries=0, replicas=0, retention_months=1)
    with caplog.at_level(logging.WARNING, logger="archive.elastic_cluster"):
        archive.index([posts["housing_board"], posts["bikes_board"], posts["noise_news"]])  # April, May, June
    assert any("event=ilm-unavailable" in record.getMessage() for record in caplog.records)
    with Elasticsearch(es_url, request_timeout=10) as client:
        template = client.indices.get_index_template(name=es_index)["index_templates"][0]
        assert "lifecycle" not in template["index_template"]["template"]["settings"]["index"]
    assert archive.expire(datetime(2024, 6, 30, 12, tzinfo=CHINA_TZ)) == [f"{es_index}-2024.04"]
    # The scheduler's daily job, as `yuqing schedule` runs it: May is past a month's retention in July.
    settings = Settings(
        archive_url=es_url, archive_index=es_index, elastic_replicas="0", archive_retention_months=1
    )
    job = archive_retention_job(settings)
    now = datetime(2024, 7, 15, 3, tzinfo=CHINA_TZ)
    job.run(now, now)
    archive.refresh()
    assert archive.count() == 1
    with Elasticsearch(es_url, request_timeout=10) as client:
        assert sorted(client.indices.get_alias(name=es_index)) == [f"{es_index}-2024.06"]
    archive.close()
