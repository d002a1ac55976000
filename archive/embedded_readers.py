"""The embedded archive's read side: a pool of read-only connections and a watchdog for the time budget.

Every search, count and aggregation takes a connection of its own from the pool for the length of
the call and gives it back after, so no read waits on another read or on the writer's lock: WAL
lets each connection read its own snapshot while the writer commits. This suits a Streamlit server
(each session's script runs in a thread of its own, a new one on every rerun) as well as any other
threads sharing one :class:`~archive.embedded.EmbeddedArchive`.

The time budget is enforced from outside the query: one watchdog thread per process keeps the
deadlines of the running reads and calls ``sqlite3_interrupt`` on a connection whose read passed
its deadline. (A progress handler would have to take the GIL every few thousand SQLite steps; with
eight readers busy it would wait for it each time.) An interrupted statement fails with "interrupted",
which the archive reports as :class:`~archive.errors.QueryTimeout`; the connection stays usable.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from archive.embedded_schema import phrase_in
from archive.errors import ArchiveError

_REMEMBERED = 50_000  # phrase answers a reader keeps within one read, at most


class Reader:
    """One read-only connection and the state of the read it serves (its deadline, phrase answers)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.token: int | None = None  # the watchdog's ticket while a deadline is armed
        self.expired = False  # the watchdog interrupted this read
        # (rowid, phrase) -> found, for the current read: a search counts its matches and then
        # sorts them, and each statement would check every candidate's phrases again.
        self.phrases: dict[tuple[int, str], bool] = {}
        conn.create_function("yq_phrase", 3, self._phrase, deterministic=True)

    def _phrase(self, rowid: int, doc: bytes, phrase: str) -> bool:
        key = (rowid, phrase)
        found = self.phrases.get(key)
        if found is None:
            if len(self.phrases) >= _REMEMBERED:
                self.phrases.clear()
            found = self.phrases[key] = phrase_in(doc, phrase)
        return found

    def begin(self) -> None:
        """Start a read: a new snapshot, so nothing remembered from the last read holds."""
        self.phrases.clear()
        if self.token is None:  # no deadline armed for this read: none can have passed
            self.expired = False
        self.conn.execute("BEGIN")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """``conn.execute``, refused once the read's deadline has passed.

        An interrupt that lands between two statements of one read is forgotten by SQLite (the
        next statement clears it), so the flag is checked here as well.
        """
        if self.expired:
            raise sqlite3.OperationalError("interrupted")
        return self.conn.execute(sql, params)


class _Watchdog:
    """Interrupts reads that run past their deadline; one daemon thread for the whole process."""

    def __init__(self) -> None:
        self._tickets = itertools.count()
        self._reset()

    def _reset(self) -> None:
        # Also in a forked child: the parent's thread does not run there, and its lock may have
        # been held at the fork.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._deadlines: list[tuple[float, int, Reader]] = []  # a heap, earliest first
        self._thread: threading.Thread | None = None

    def arm(self, reader: Reader, seconds: float) -> None:
        """Interrupt ``reader`` in ``seconds`` unless :meth:`disarm` comes first."""
        with self._lock:
            ticket = next(self._tickets)
            reader.token, reader.expired = ticket, False
            heapq.heappush(self._deadlines, (time.monotonic() + seconds, ticket, reader))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="archive-query-budget", daemon=True)
                self._thread.start()
            elif self._deadlines[0][1] == ticket:  # earlier than what the thread sleeps towards
                self._changed.notify()

    def disarm(self, reader: Reader) -> None:
        """The read is over: no interrupt reaches the connection after this returns."""
        with self._lock:
            reader.token = None  # its heap entry is dropped when its time comes

    def _run(self) -> None:
        with self._lock:
            while True:
                if not self._deadlines:
                    self._changed.wait()
                    continue
                deadline, ticket, reader = self._deadlines[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                heapq.heappop(self._deadlines)
                if reader.token == ticket:
                    # Under the lock: disarm() cannot return before this interrupt is delivered, so
                    # it never reaches the connection's next read.
                    reader.expired = True
                    with contextlib.suppress(sqlite3.ProgrammingError):  # closed meanwhile
                        reader.conn.interrupt()


WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=WATCHDOG._reset)


class ReaderPool:
    """Idle read connections; a read takes one (or opens one) and gives it back.

    The pool never makes a read wait: when every connection is busy a new one is opened (about a
    millisecond), and up to ``keep`` idle ones are kept for the next reads.
    """

    def __init__(self, open_connection: Callable[[], sqlite3.Connection], *, keep: int = 16) -> None:
        self._open = open_connection
        self._keep = keep
        self._idle: list[Reader] = []
        self._lock = threading.Lock()  # held only to push or pop
        self._closed = False

    def take(self) -> Reader:
        """An idle connection, or a new one; raises ``sqlite3.Error`` if the file cannot be opened."""
        with self._lock:
            if self._closed:
                raise ArchiveError("the archive is closed")
            if self._idle:
                return self._idle.pop()
        return Reader(self._open())

    def give(self, reader: Reader) -> None:
        """Return ``reader`` after a read; it is closed if it cannot serve another one."""
        reader.phrases.clear()  # an idle connection holds no answers
        try:
            healthy = not reader.conn.in_transaction
        except sqlite3.ProgrammingError:  # already closed
            return
        with self._lock:
            if healthy and not self._closed and len(self._idle) < self._keep:
                self._idle.append(reader)
                return
        reader.conn.close()

    def close(self) -> None:
        """Close the idle connections; busy ones are closed when they are given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.conn.close()
