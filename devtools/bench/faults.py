"""``yuqing bench faults``: workers killed, the archive cut off, the broker restarted while the stream drains.

N records go to posts.raw first, a share of them poison of several kinds (bytes that are not UTF-8,
text that is not JSON or not an object, a printed Weibo count "1.2万", wrong types, a bad time, an old
schema, a key that is not the id, ``raw`` nested too deep, and a lone surrogate that passes the decode
edge but breaks the classify sink, so the worker has to bisect it out). Then the classify, index and
ledger workers start, each its own ``yuqing worker`` process as in production, and while they drain
this process injects faults at random points of their progress (a seeded plan; a fault fires when the
committed offsets of the stage it watches pass a random share of that stage's work):

- every worker killed with SIGKILL ``--kills`` times and started again at once (what ``yuqing up`` or
  a container's restart policy does; a worker that exits by itself is restarted too, and reported);
- the archive unreachable for ``--outage-s`` seconds: the workers reach Elasticsearch through a TCP
  proxy of this process, which resets every open connection and every new one while the outage lasts;
- the broker restarted ``--broker-restarts`` times: noida-db's Kafka stopped and started again on its
  port with its data (SIGTERM, or SIGKILL with ``--broker-signal kill``).

The run has drained when every fault is over and each group's committed offsets stand at its topic's
end. Then it checks what came out against what went in and prints one JSON line: ``lost`` (records
neither archived nor dead-lettered), ``duplicated`` (archive copies beyond one per post id, across the
monthly indices, plus tickets opened twice for one post), ``dead_lettered`` (poison records with a
letter) and whether each has exactly one, good posts dead-lettered, the ledger's expected tickets
(the intake rules' ``decide`` over every enriched version of each post) against those it holds,
``drain_s`` (workers started → drained) and each fault with when it fired.

Servers: noida-db from its wheel (test dependency group), one process for Kafka and one for
Elasticsearch, each on a free loopback port with its own data directory; or existing ones with
``--bootstrap``/``--es-url`` (the broker is then not restarted: its process is not ours).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.messages import SCHEMA_VERSION, RawPost, decode, encode, post_id
from stream.broker import Broker, Lag, Record
from yuqing.backends import make_broker
from yuqing.settings import Settings, settings_env

DEFAULT_DATA = Path("../shared/data")
STAGES = ("classify", "index", "ledger")
GROUPS = {"classify": "yuqing-classify", "index": "yuqing-index", "ledger": "yuqing-ledger"}
POLL_S = 0.25


# ---------------------------------------------------------------------------------------------------
# What goes in: good posts and poison records
# ---------------------------------------------------------------------------------------------------

_PLACES = ("城东", "城西", "河口", "新区", "老街", "工业园", "滨江", "北关", "南湖", "高铁站")
_PROBLEMS = (
    "小区门口道路积水严重，出行非常不便",
    "夜间施工噪音扰民，已经持续一个多月",
    "公交站台的顶棚坏了很久没人修",
    "菜市场周边占道经营，车辆无法通行",
    "物业擅自上调停车费，业主意见很大",
    "学校附近的红绿灯时长太短，孩子过马路危险",
    "自来水发黄有异味，担心饮水安全",
    "垃圾清运不及时，夏天气味难闻",
    "路灯一到晚上就不亮，老人摔倒过好几次",
    "农民工工资被拖欠半年，多次讨要无果",
)
_ASKS = ("希望尽快处理", "请有关部门管一管", "盼早日解决", "恳请领导重视", "谢谢政府帮忙")


def synthetic_texts(count: int = 300) -> list[tuple[str, str, str]]:
    """(source, title, text) samples of our own writing, for runs without ../shared/data."""
    out: list[tuple[str, str, str]] = []
    for i in range(count):
        place, problem, ask = _PLACES[i % 10], _PROBLEMS[(i // 10) % 10], _ASKS[i % 5]
        if i % 2:
            out.append(("weibo", "", f"#{place}# {place}{problem}，{ask}！第{i}次反映了"))
        else:
            out.append(("board", f"关于{place}{problem[:8]}的问题", f"{place}{problem}，{ask}。编号{i}"))
    return out


def good_post(sample: tuple[str, str, str], run: str, number: int, now: str) -> RawPost:
    """A valid raw post of ``sample`` with a fresh id."""
    source, title, text = sample
    return RawPost(
        schema=SCHEMA_VERSION,
        id=post_id(source, f"faults-{run}", str(number)),
        source=source,  # type: ignore[typeddict-item]
        channel=f"faults-{run}",
        url="",
        title=title,
        text=text,
        published_at=now,
        fetched_at=now,
    )


def _deep(levels: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        inner = {"x": inner}
    return inner


def _poison_post(base: RawPost, **changes: Any) -> bytes:
    return encode({**base, **changes})


# Each kind: (its key and bytes from a valid post). Every one but the last is refused by the classify
# stage's parse (the decode edge); the lone surrogate decodes and validates, then breaks the classify
# sink (nothing can encode it as UTF-8), so the worker bisects the batch to find it.
POISON_KINDS: dict[str, Callable[[RawPost], tuple[str, bytes]]] = {
    "not-utf8": lambda p: (p["id"], b'{"schema": 1, "id": "\xff\xfe\xfa"}'),
    "not-json": lambda p: (p["id"], b'{"schema": 1, "id": '),
    "not-an-object": lambda p: (p["id"], b'["schema", 1]'),
    "printed-count": lambda p: (
        p["id"],
        _poison_post(p, source="weibo", metrics={"reposts": "1.2万", "comments": 3}),
    ),
    "wrong-type": lambda p: (p["id"], _poison_post(p, text=12345, author={"followers": "很多"})),
    "bad-time": lambda p: (p["id"], _poison_post(p, published_at="昨天下午")),
    "old-schema": lambda p: (p["id"], _poison_post(p, schema=0)),
    "key-not-id": lambda p: (p["id"], _poison_post(p, id=p["id"] + ":other")),
    "nested-too-deep": lambda p: (p["id"], _poison_post(p, raw=_deep(12))),
    # Escaped as \ud800: valid JSON and ASCII, decoding to a str that no codec can write out again.
    "lone-surrogate": lambda p: (p["id"], json.dumps({**p, "text": "\ud800" + p["text"]}).encode("ascii")),
}


@dataclass
class Inventory:
    """What was published: good post ids and poison record keys with their kind."""

    good: set[str] = field(default_factory=set)
    poison: dict[str, str] = field(default_factory=dict)


def records(
    samples: Sequence[tuple[str, str, str]], total: int, poison_share: float, rng: random.Random, run: str
) -> Iterator[tuple[str, bytes, str | None]]:
    """``total`` records (key, value, poison kind or None): poison at random places, kinds in turn."""
    poison_count = round(total * poison_share)
    places = rng.sample(range(total), poison_count)
    kinds = list(POISON_KINDS)
    kind_at = {place: kinds[i % len(kinds)] for i, place in enumerate(places)}
    now = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.localtime())
    for number in range(total):
        post = good_post(samples[number % len(samples)], run, number, now)
        kind = kind_at.get(number)
        if kind is None:
            yield post["id"], encode(post), None
            continue
        poison_base = {**post, "id": post_id(post["source"], f"poison-{run}", f"{kind}-{number}")}
        key, value = POISON_KINDS[kind](poison_base)  # type: ignore[arg-type]
        yield key, value, kind


def publish(
    broker: Broker, topic: str, stream: Iterator[tuple[str, bytes, str | None]]
) -> tuple[Inventory, float]:
    """Publish every record to ``topic`` (before any fault); return the inventory and the seconds taken."""
    inventory = Inventory()
    started = time.monotonic()
    producer = broker.producer()
    try:
        for number, (key, value, kind) in enumerate(stream):
            producer.send(topic, key, value)
            if kind is None:
                inventory.good.add(key)
            else:
                inventory.poison[key] = kind
            if number % 20_000 == 19_999:
                producer.flush()
        producer.flush()
    finally:
        producer.close()
    return inventory, time.monotonic() - started


# ---------------------------------------------------------------------------------------------------
# The servers, the proxy that cuts the archive off, the workers
# ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
            return int(response.status) == 200
    except OSError:
        return False


def noida_binary() -> str:
    """The noida-db server binary inside its wheel (the test dependency group installs it)."""
    import noida_db

    binary = Path(noida_db.__file__).parent / "noida-db"
    if not binary.exists():
        raise FileNotFoundError(f"noida-db binary not found at {binary}")
    return str(binary)


@dataclass
class Server:
    """A noida-db process of ours: started in the foreground, stopped by its own pid, restartable."""

    name: str
    argv: list[str]
    ready: Callable[[], bool]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.ready():
                return
            time.sleep(0.1)
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_path.read_text(errors='replace')[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def noida_kafka(directory: Path) -> tuple[Server, str]:
    """noida-db serving Kafka only, persisting to ``directory``; its bootstrap address."""
    port = free_port()
    argv = [noida_binary(), "start", "--data-dir", str(directory / "data"), "--only", "kafka"]
    server = Server(
        "noida-db kafka", [*argv, "--kafka-port", str(port)], lambda: _port_open(port), directory / "log"
    )
    return server, f"127.0.0.1:{port}"


def noida_elasticsearch(directory: Path) -> tuple[Server, str]:
    """noida-db serving the Elasticsearch API only, persisting to ``directory``; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [noida_binary(), "start", "--data-dir", str(directory / "data"), "--only", "elasticsearch"]
    server = Server(
        "noida-db elasticsearch",
        [*argv, "--elasticsearch-port", str(port)],
        lambda: _port_open(port) and _http_ok(url + "/"),
        directory / "log",
    )
    return server, url


def _reset(sock: socket.socket) -> None:
    """Drop a connection hard: RST on close, and wake a thread blocked reading it."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class CutProxy:
    """A TCP proxy on a loopback port in front of ``target``; while cut it resets every connection."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.refused = 0
        threading.Thread(target=self._accept, name="cut-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Reset every open connection and every new one until :meth:`restore`."""
        self._cut.set()
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            _reset(sock)

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


class SessionExpiry:
    """Stands in for the session expiry noida-db's Kafka lacks (0.2.3, checked when this was written).

    Kafka's group coordinator drops a member that stops heartbeating once its session times out, and
    a rebalance hands its partitions to the others. noida-db never does: a member whose process was
    killed stays in the group for good, and a new member waits for it forever (the group sits in
    PreparingRebalance or CompletingRebalance). So after a worker dies, this sends the LeaveGroup that
    the coordinator would have implied — for the member ids the group held once the process was gone,
    after the same session timeout — and the restarted worker joins as it would on Kafka.
    """

    def __init__(self, bootstrap: list[str], session_s: float) -> None:
        self.bootstrap = bootstrap
        self.session_s = session_s
        self.expired = 0
        self._timers: list[threading.Timer] = []

    def _admin(self) -> Any:
        from kafka import KafkaAdminClient

        return KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)

    def members(self, group: str) -> list[str]:
        """The member ids of ``group`` now (none if the broker cannot say: a restart forgets them all)."""
        for _ in range(5):
            try:
                admin = self._admin()
                try:
                    description = admin.describe_groups([group])[group]
                finally:
                    admin.close()
                return [str(member["member_id"]) for member in description["members"]]
            except Exception:  # noqa: BLE001 - the broker restarting: ask again
                time.sleep(0.5)
        return []

    def expire_later(self, group: str, members: list[str]) -> None:
        """Remove ``members`` from ``group`` after the session timeout."""
        if not members:
            return
        timer = threading.Timer(self.session_s, self._remove, args=(group, members))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def _remove(self, group: str, members: list[str]) -> None:
        from kafka.admin import MemberToRemove

        for _ in range(10):
            try:
                admin = self._admin()
                try:
                    admin.remove_group_members(group, [MemberToRemove(member_id=m) for m in members])
                finally:
                    admin.close()
                self.expired += len(members)
                return
            except Exception:  # noqa: BLE001 - unknown member (a broker restart forgot it) or broker away
                time.sleep(1.0)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()


class Workers:
    """The three ``yuqing worker`` processes, restarted when killed (by us) or when they exit (reported)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: Counter[str] = Counter()
        self.kills: Counter[str] = Counter()
        self.exits: list[dict[str, Any]] = []
        self.expiry: SessionExpiry | None = None

    def start(self, stage: str) -> None:
        self.starts[stage] += 1
        path = self.logs / f"{stage}-{self.starts[stage]}.log"
        with path.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.processes[stage] = subprocess.Popen(
                [sys.executable, "-m", "yuqing", "worker", stage],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )

    def _restart(self, stage: str) -> None:
        """Start the stage's worker again; its dead predecessor's members expire as on Kafka."""
        dead = self.expiry.members(GROUPS[stage]) if self.expiry is not None else []
        self.start(stage)
        if self.expiry is not None:
            self.expiry.expire_later(GROUPS[stage], dead)

    def kill(self, stage: str) -> None:
        """SIGKILL the stage's worker, wherever it is, and start another."""
        process = self.processes[stage]
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        self.kills[stage] += 1
        self._restart(stage)

    def check(self) -> None:
        """Restart a worker that exited by itself, noting why (the last line of its log)."""
        for stage, process in list(self.processes.items()):
            if process.poll() is None:
                continue
            log = self.logs / f"{stage}-{self.starts[stage]}.log"
            lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
            self.exits.append(
                {"stage": stage, "code": process.returncode, "last": lines[-1] if lines else ""}
            )
            self._restart(stage)

    def stop(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---------------------------------------------------------------------------------------------------
# Faults at random points of progress, and the drain
# ---------------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One fault of the plan: it fires when the ``watch`` stage's progress passes ``threshold``."""

    kind: str  # "kill", "archive-outage", "broker-restart"
    watch: str
    threshold: float
    stage: str | None = None
    jitter_s: float = 0.0
    fired_s: float | None = None
    progress: float | None = None
    done: bool = False

    def describe(self) -> dict[str, Any]:
        name = f"kill -9 {self.stage}" if self.kind == "kill" else self.kind
        return {
            "fault": name,
            "at_s": None if self.fired_s is None else round(self.fired_s, 1),
            f"{self.watch}_progress": None if self.progress is None else round(self.progress, 3),
        }


def plan_faults(rng: random.Random, *, kills: int, outage: bool, broker_restarts: int) -> list[Fault]:
    """The seeded plan: kills at random shares of their own stage's work, the others anywhere in it."""
    plan = [
        Fault("kill", stage, rng.uniform(0.05, 0.9), stage=stage, jitter_s=rng.uniform(0, 0.5))
        for stage in STAGES
        for _ in range(kills)
    ]
    if outage:
        plan.append(Fault("archive-outage", "index", rng.uniform(0.1, 0.7)))
    plan += [
        Fault("broker-restart", rng.choice(STAGES), rng.uniform(0.1, 0.8)) for _ in range(broker_restarts)
    ]
    return sorted(plan, key=lambda f: f.threshold)


def read_lags(broker: Broker, settings: Settings) -> dict[str, Lag] | None:
    """Each group's committed offsets against its topic's end, or None while the broker is away.

    classify is read first: once it has committed all of posts.raw its output is on posts.enriched
    (it commits after the broker acknowledged it), so the enriched end read after it is final.
    """
    topics = {
        "classify": settings.topic_raw,
        "index": settings.topic_enriched,
        "ledger": settings.topic_enriched,
    }
    try:
        return {stage: broker.lag(GROUPS[stage], topics[stage]) for stage in STAGES}
    except Exception:  # noqa: BLE001 - the broker restarting (any client error): read again next time
        return None


@dataclass
class DrainResult:
    """How the drain went: whether it finished, how long it took, the plan as it fired."""

    drained: bool
    drain_s: float
    faults: list[Fault]
    outage_refused: int = 0


def drain_under_faults(
    settings: Settings,
    workers: Workers,
    plan: list[Fault],
    *,
    expected: dict[str, int],
    outage_s: float,
    proxy: CutProxy | None,
    kafka: Server | None,
    broker_signal: int,
    timeout_s: float,
) -> DrainResult:
    """Start the workers, fire the plan as progress passes each threshold, wait until every group is done."""
    broker = make_broker(settings)
    busy: list[threading.Thread] = []

    def outage(fault: Fault) -> None:
        assert proxy is not None
        proxy.cut()
        time.sleep(outage_s)
        proxy.restore()
        fault.done = True

    def restart_broker(fault: Fault) -> None:
        assert kafka is not None
        kafka.stop(broker_signal)
        kafka.start()
        fault.done = True

    started = time.monotonic()
    for stage in STAGES:
        workers.start(stage)
    drained = False
    try:
        while time.monotonic() - started < timeout_s:
            workers.check()
            lags = read_lags(broker, settings)
            if lags is not None:
                progress = {stage: lags[stage].committed / max(expected[stage], 1) for stage in STAGES}
                for fault in plan:
                    if fault.fired_s is not None or progress[fault.watch] < fault.threshold:
                        continue
                    fault.fired_s, fault.progress = time.monotonic() - started, progress[fault.watch]
                    if fault.kind == "kill":
                        time.sleep(fault.jitter_s)  # a random moment of the batch in hand
                        assert fault.stage is not None
                        workers.kill(fault.stage)
                        fault.done = True
                    else:
                        action = outage if fault.kind == "archive-outage" else restart_broker
                        thread = threading.Thread(target=action, args=(fault,), daemon=True)
                        thread.start()
                        busy.append(thread)
                if (
                    all(fault.done for fault in plan)
                    and lags["classify"].committed >= expected["classify"]
                    and all(lags[stage].lag == 0 for stage in STAGES)
                ):
                    drained = True
                    break
            time.sleep(POLL_S)
    finally:
        drain_s = time.monotonic() - started
        for thread in busy:
            thread.join(timeout=outage_s + 60)
        with contextlib.suppress(Exception):
            broker.close()
    return DrainResult(drained, drain_s, plan, proxy.refused if proxy is not None else 0)


# ---------------------------------------------------------------------------------------------------
# What came out
# ---------------------------------------------------------------------------------------------------


def iter_topic(settings: Settings, topic: str) -> Iterator[Record]:
    """Every record of ``topic`` from the start, without a group, a page at a time."""
    if settings.broker_url == "embedded":
        broker = make_broker(settings)
        try:
            offset = 0
            while page := broker.read(topic, 5000, offset):
                yield from page
                offset = page[-1].offset + 1
        finally:
            broker.close()
        return
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for messages in consumer.poll(timeout_ms=1000, max_records=5000).values():
                for m in messages:
                    key = m.key.decode("utf-8", errors="replace") if m.key is not None else None
                    yield Record(m.topic, m.partition, m.offset, key, m.value)
    finally:
        consumer.close()


def archive_ids(settings: Settings, es_url: str | None) -> Counter[str]:
    """How many documents the archive holds per post id (Elasticsearch: over every monthly index)."""
    copies: Counter[str] = Counter()
    if es_url is None:
        conn = sqlite3.connect(f"file:{settings.archive_path}?mode=ro", uri=True)
        try:
            copies.update(row[0] for row in conn.execute("SELECT id FROM posts"))
        finally:
            conn.close()
        return copies
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=120)
    try:
        if not client.indices.exists_alias(name=settings.archive_index):
            return copies
        for index in sorted(client.indices.get_alias(name=settings.archive_index)):
            after: list[Any] | None = None
            while True:
                extra: dict[str, Any] = {} if after is None else {"search_after": after}
                page = client.search(
                    index=index,
                    query={"match_all": {}},
                    sort=[{"id": "asc"}],
                    size=10_000,
                    source=False,
                    **extra,
                )["hits"]["hits"]
                copies.update(hit["_id"] for hit in page)
                if len(page) < 10_000:
                    break
                after = page[-1]["sort"]
    finally:
        client.close()
    return copies


def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    """Every failure letter on posts.dlq (replay markers aside)."""
    letters = []
    for record in iter_topic(settings, settings.topic_dlq):
        letter = decode(record.value)
        if letter.get("kind") is None:
            letters.append(letter)
    return letters


def expected_tickets(settings: Settings) -> tuple[set[str], int, int]:
    """Post ids the intake rules ticket (by any enriched version of them); records and distinct posts read."""
    from response_ledger.intake import Decision, decide
    from response_ledger.policy import load_policy

    policy = load_policy(settings.ledger_policy_path)
    wanted: set[str] = set()
    seen: set[str] = set()
    total = 0
    for record in iter_topic(settings, settings.topic_enriched):
        post: Any = decode(record.value)
        total += 1
        seen.add(post["id"])
        if isinstance(decide(post, policy), Decision):
            wanted.add(post["id"])
    return wanted, total, len(seen)


def ledger_holdings(settings: Settings) -> tuple[set[str], Counter[str]]:
    """Post ids linked to tickets, and how many tickets were opened per post."""
    from sqlalchemy import create_engine, select

    from response_ledger.tables import ticket_posts, tickets

    engine = create_engine(settings.ledger_sqlalchemy_url)
    try:
        with engine.connect() as conn:
            linked = {row[0] for row in conn.execute(select(ticket_posts.c.post_id))}
            opened = Counter(
                row[0]
                for row in conn.execute(select(tickets.c.post_id).where(tickets.c.post_id.is_not(None)))
            )
    finally:
        engine.dispose()
    return linked, opened


def verify(settings: Settings, inventory: Inventory, es_url: str | None) -> dict[str, Any]:
    """What came out against what went in."""
    copies = archive_ids(settings, es_url)
    letters = dead_letters(settings)
    # A letter names the record that failed: its key, stage and place in the log. The same failure
    # written twice is a batch done again after its letters were durable (a worker killed before its
    # commit, a commit refused after a rebalance): at-least-once, and replay counts it once.
    failures = {
        (
            str(letter.get("key")),
            letter.get("stage"),
            letter.get("topic"),
            letter.get("partition"),
            letter.get("offset"),
        )
        for letter in letters
    }
    per_key = Counter(failure[0] for failure in failures)
    poison = inventory.poison
    archived = set(copies)
    lost_good = inventory.good - archived - set(per_key)
    lost_poison = {key for key in poison if per_key[key] == 0}
    wanted, enriched_records, enriched_posts = expected_tickets(settings)
    linked, opened = ledger_holdings(settings)
    archive_dupes = sum(n - 1 for n in copies.values() if n > 1)
    ledger_dupes = sum(n - 1 for n in opened.values() if n > 1)
    kinds = Counter(poison.values())
    return {
        "lost": len(lost_good) + len(lost_poison),
        "duplicated": archive_dupes + ledger_dupes,
        "dead_lettered": sum(1 for key in poison if per_key[key] > 0),
        "dead_lettered_exactly_once": all(per_key[key] == 1 for key in poison),
        "good_dead_lettered": len(inventory.good & set(per_key)),
        "dlq": {
            "letters": len(letters),
            "failures": len(failures),
            "repeated_letters": len(letters) - len(failures),
            "by_stage": dict(Counter(str(letter.get("stage")) for letter in letters)),
        },
        "poison_kinds": {kind: kinds[kind] for kind in POISON_KINDS},
        "archive": {
            "documents": sum(copies.values()),
            "posts": len(archived),
            "missing": len(inventory.good - archived),
            "duplicated": archive_dupes,
            "unexpected": len(archived - inventory.good),
        },
        "ledger": {
            "expected": len(wanted),
            "linked": len(linked & wanted),
            "lost": len(wanted - linked),
            "duplicated": ledger_dupes,
            "unexpected": len(linked - wanted),
        },
        "enriched": {"records": enriched_records, "posts": enriched_posts},
        "examples": {
            "lost": sorted(lost_good | lost_poison)[:5],
            "letters": {
                kind: next(
                    (str(x["error"])[:120] for x in letters if poison.get(str(x.get("key"))) == kind), None
                )
                for kind in POISON_KINDS
            },
        },
    }


# ---------------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultOptions:
    """One run's size, faults and servers (the command line's options)."""

    posts: int = 200_000
    poison_share: float = 0.01
    seed: int = 0
    broker: str = "kafka"  # noida-db's Kafka, or "embedded"
    archive: str = "elasticsearch"  # noida-db's Elasticsearch, or "embedded"
    kills: int = 1
    outage_s: float = 10.0
    broker_restarts: int = 1
    broker_signal: str = "term"
    batch_size: int = 500
    partitions: int = 3
    bootstrap: str | None = None  # an existing Kafka: not ours to restart
    es_url: str | None = None  # an existing Elasticsearch (still reached through our proxy)
    # Expire a dead worker's group members ourselves (noida-db's Kafka never does; see SessionExpiry):
    # "auto" does it on the noida-db this run starts, "on" on --bootstrap too.
    session_expiry: str = "auto"
    timeout_s: float = 3600.0


def run_faults(
    base: Settings, options: FaultOptions, samples: Sequence[tuple[str, str, str]], work: Path
) -> dict[str, Any]:
    """Start what is needed under ``work``, publish, drain under faults, verify; the result as a dict."""
    rng = random.Random(options.seed)
    samples = list(samples)
    rng.shuffle(samples)  # sources mixed from the first post on (the shared data lists Weibo first)
    run = f"{options.seed}-{int(time.time())}"
    servers: list[Server] = []
    proxy: CutProxy | None = None
    kafka: Server | None = None
    settings = replace(
        base,
        home=work / "home",
        broker_url="embedded",
        archive_url="embedded",
        archive_index="faults",
        batch_size=options.batch_size,
        topic_partitions=options.partitions,
        kafka_session_timeout_ms=6000,
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    workers = Workers({**os.environ}, work / "worker-logs")
    try:
        if options.broker == "kafka":
            bootstrap = options.bootstrap
            if bootstrap is None:
                (work / "kafka").mkdir(parents=True)
                kafka, bootstrap = noida_kafka(work / "kafka")
                kafka.start()
                servers.append(kafka)
            settings = replace(settings, broker_url=f"kafka://{bootstrap}")
        es_url = options.es_url
        if options.archive == "elasticsearch":
            if es_url is None:
                (work / "elasticsearch").mkdir(parents=True)
                elastic, es_url = noida_elasticsearch(work / "elasticsearch")
                elastic.start()
                servers.append(elastic)
            host, port = es_url.removeprefix("http://").rstrip("/").rsplit(":", 1)
            proxy = CutProxy(host, int(port))
            settings = replace(settings, archive_url=proxy.url)
        workers.env = {**os.environ, **settings_env(settings)}
        if options.broker == "kafka" and (
            options.session_expiry == "on" or (options.session_expiry == "auto" and kafka is not None)
        ):
            workers.expiry = SessionExpiry(settings.kafka_bootstrap, settings.kafka_session_timeout_ms / 1000)
        broker = make_broker(settings)
        try:
            broker.ensure_topics([settings.topic_raw, settings.topic_enriched, settings.topic_dlq])
            inventory, publish_s = publish(
                broker, settings.topic_raw, records(samples, options.posts, options.poison_share, rng, run)
            )
        finally:
            broker.close()
        plan = plan_faults(
            rng,
            kills=options.kills,
            outage=proxy is not None and options.outage_s > 0,
            broker_restarts=options.broker_restarts if kafka is not None else 0,
        )
        good = len(inventory.good)
        result = drain_under_faults(
            settings,
            workers,
            plan,
            expected={"classify": options.posts, "index": good, "ledger": good},
            outage_s=options.outage_s,
            proxy=proxy,
            kafka=kafka,
            broker_signal=signal.SIGKILL if options.broker_signal == "kill" else signal.SIGTERM,
            timeout_s=options.timeout_s,
        )
        workers.stop()
        verify_started = time.monotonic()
        figures = verify(settings, inventory, es_url if options.archive == "elasticsearch" else None)
        return {
            "posts": options.posts,
            "poison": len(inventory.poison),
            "seed": options.seed,
            "backends": {
                "broker": ("noida-db kafka" if kafka is not None else "kafka")
                if options.broker == "kafka"
                else "embedded",
                "archive": "elasticsearch (noida-db)" if options.archive == "elasticsearch" else "embedded",
            },
            "batch_size": options.batch_size,
            "drained": result.drained,
            "publish_s": round(publish_s, 1),
            "drain_s": round(result.drain_s, 1),
            **{k: v for k, v in figures.items() if k != "examples"},
            "faults": [
                fault.describe()
                for fault in sorted(result.faults, key=lambda f: (f.fired_s is None, f.fired_s or 0.0))
            ],
            "outage_s": options.outage_s if proxy is not None else None,
            "outage_connections_reset": result.outage_refused,
            "worker_kills": dict(workers.kills),
            "members_expired_for_noida": workers.expiry.expired if workers.expiry is not None else None,
            "worker_exits_by_themselves": workers.exits,
            "verify_s": round(time.monotonic() - verify_started, 1),
            "examples": figures["examples"],
        }
    finally:
        workers.stop()
        if proxy is not None:
            proxy.close()
        for server in servers:
            server.stop()


def _main(settings: Settings, args: argparse.Namespace) -> int:
    from classifiers.build import build_default_models

    data_dir: Path = args.data_dir
    if (data_dir / "stream" / "weibo_2020_10k.csv").exists():
        from bench.pipeline import load_texts

        samples = load_texts(data_dir)
    else:
        print(f"未找到共享数据目录 {data_dir}，改用内置的合成文本", file=sys.stderr)
        samples = synthetic_texts()
    build_default_models(settings.model_path)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    options = FaultOptions(
        posts=args.posts,
        poison_share=args.poison_share,
        seed=seed,
        broker=args.broker,
        archive=args.archive,
        kills=args.kills,
        outage_s=args.outage_s,
        broker_restarts=args.broker_restarts,
        broker_signal=args.broker_signal,
        batch_size=args.batch_size,
        partitions=args.partitions,
        bootstrap=args.bootstrap,
        es_url=args.es_url,
        session_expiry=args.session_expiry,
        timeout_s=args.timeout,
    )
    work = Path(tempfile.mkdtemp(prefix="yuqing-faults-"))
    base = replace(settings, models_dir=settings.model_path.resolve())
    try:
        result = run_faults(base, options, samples, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"benchmark": "faults", **result}, ensure_ascii=False))
    return 0 if result["drained"] else 1


def register(sub: Any) -> None:
    """Add ``bench faults``."""
    parser = sub.add_parser(
        "faults", help="故障演练：随机杀掉工作进程、归档库断开、消息队列重启，核对丢失、重复与死信"
    )
    parser.add_argument("--posts", type=int, default=200_000, help="投放的记录数（含毒记录）")
    parser.add_argument("--poison-share", type=float, default=0.01, help="毒记录占比")
    parser.add_argument("--seed", type=int, default=None, help="随机种子（故障时机、毒记录位置）")
    parser.add_argument("--broker", choices=["kafka", "embedded"], default="kafka")
    parser.add_argument("--archive", choices=["elasticsearch", "embedded"], default="elasticsearch")
    parser.add_argument("--kills", type=int, default=1, help="每个工作进程被 kill -9 的次数")
    parser.add_argument("--outage-s", type=float, default=10.0, help="归档库不可达的秒数（0 = 不断开）")
    parser.add_argument("--broker-restarts", type=int, default=1)
    parser.add_argument("--broker-signal", choices=["term", "kill"], default="term")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--bootstrap", default=None, help="使用已有的 Kafka（host:port），不重启它")
    parser.add_argument("--es-url", default=None, help="使用已有的 Elasticsearch（仍经本进程的代理）")
    parser.add_argument(
        "--session-expiry",
        choices=["auto", "on", "off"],
        default="auto",
        help="替 noida-db 的 Kafka 让被杀进程的组成员在会话超时后离组（auto：仅对本进程启动的 noida-db）",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="等待排空的最长秒数")
    parser.add_argument("--keep", action="store_true", help="保留工作目录（日志、数据）")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.set_defaults(handler=_main)
