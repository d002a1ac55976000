"""A worker started while the archive or the broker is down waits for it, as a running one does.

Found by `yuqing bench faults`: an index worker killed and restarted during the archive outage exited on
its first request (``archive.ensure()``), again and again, until the supervisor's next try found the
archive back.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from archive.errors import ArchiveUnavailable
from stream.errors import TransientError
from yuqing import wiring
from yuqing.settings import Settings


class ArchiveDownAtFirst:
    """An archive whose ``ensure`` fails ``down`` times before it answers."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.calls = 0

    def ensure(self) -> None:
        self.calls += 1
        if self.calls <= self.down:
            raise ArchiveUnavailable("Elasticsearch unreachable while trying to install the index template")


def test_an_index_worker_started_during_an_archive_outage_waits_for_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = ArchiveDownAtFirst(down=2)
    monkeypatch.setattr(wiring, "make_archive", lambda settings, writer=False: archive)
    worker = wiring.build_worker(Settings(home=tmp_path / "home"), "index")
    assert archive.calls == 3
    assert worker.stage.name == "index"
    worker.close()


def test_a_worker_waiting_for_the_broker_at_start_stops_when_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BrokerDown:
        def ensure_topics(self, names: object) -> None:
            raise TransientError("kafka unreachable")

    monkeypatch.setattr(wiring, "make_broker", lambda settings: BrokerDown())
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    with pytest.raises(TransientError):
        wiring.build_worker(Settings(home=tmp_path / "home"), "index", stop=stop)
