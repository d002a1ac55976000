"""``yuqing health``: a container's healthcheck passes when what it names answers, and fails loudly."""

from __future__ import annotations

import argparse
import base64
import socket
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.china_time import CHINA_TZ
from yuqing.commands.health import CHECKS, Unhealthy, _health
from yuqing.scheduler import HEARTBEAT_STALE, heartbeat_path
from yuqing.settings import Settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_embedded_service_is_healthy(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    heartbeat_path(tmp_path).parent.mkdir(parents=True)
    heartbeat_path(tmp_path).write_text(datetime.now(CHINA_TZ).isoformat(), encoding="utf-8")
    assert _health(settings, argparse.Namespace(checks=sorted(CHECKS))) == 0


def test_a_scheduler_without_a_recent_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with pytest.raises(Unhealthy, match="no heartbeat"):
        CHECKS["scheduler"](settings)
    heartbeat_path(tmp_path).parent.mkdir(parents=True)
    stale = datetime.now(CHINA_TZ) - HEARTBEAT_STALE - timedelta(minutes=1)
    heartbeat_path(tmp_path).write_text(stale.isoformat(), encoding="utf-8")
    with pytest.raises(Unhealthy, match="last heartbeat"):
        CHECKS["scheduler"](settings)


def test_a_broker_that_does_not_answer_is_unhealthy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path, broker_url=f"kafka://127.0.0.1:{_closed_port()}")
    assert _health(settings, argparse.Namespace(checks=["broker"])) == 1
    assert "unhealthy broker: 127.0.0.1:" in capsys.readouterr().err


def test_one_live_bootstrap_server_is_enough(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        live = server.getsockname()[1]
        settings = Settings(home=tmp_path, broker_url=f"kafka://127.0.0.1:{_closed_port()},127.0.0.1:{live}")
        CHECKS["broker"](settings)


def test_an_archive_that_does_not_answer_is_unhealthy(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, archive_url=f"http://elastic:pw@127.0.0.1:{_closed_port()}")
    with pytest.raises(Unhealthy, match="unreachable"):
        CHECKS["archive"](settings)


def test_a_ledger_that_refuses_reports_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://yuqing:s3cret@127.0.0.1:{_closed_port()}/yuqing"
    with pytest.raises(Unhealthy, match="ledger database") as failure:
        CHECKS["ledger"](Settings(home=tmp_path, ledger_url=url))
    assert "s3cret" not in str(failure.value)


def test_a_broken_sources_file_is_unhealthy(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("- name: x\n", encoding="utf-8")
    with pytest.raises(Unhealthy):
        CHECKS["sources"](Settings(home=tmp_path, sources_file=sources))
    with pytest.raises(Unhealthy):
        CHECKS["sources"](Settings(home=tmp_path, sources_file=tmp_path / "missing.yaml"))


class _SecuredCluster(BaseHTTPRequestHandler):
    """Elasticsearch with security on: the right basic credentials pass, anything else is 401."""

    def do_HEAD(self) -> None:
        good = "Basic " + base64.b64encode(b"elastic:right-password").decode()
        status = 404 if self.headers.get("Authorization") == good else 401  # 404: no alias yet, fine
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_archive_check_signs_in_with_the_archive_credentials(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SecuredCluster)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        signed_in = Settings(
            home=tmp_path, archive_url=url, elastic_username="elastic", elastic_password="right-password"
        )
        CHECKS["archive"](signed_in)
        wrong = Settings(
            home=tmp_path, archive_url=url, elastic_username="elastic", elastic_password="wrong-one"
        )
        with pytest.raises(Unhealthy, match="refused the archive's request \\(401\\)") as caught:
            CHECKS["archive"](wrong)
        assert "wrong-one" not in str(caught.value)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
