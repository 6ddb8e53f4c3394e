"""Change signals for the serving table: when another process loads, unloads, promotes or
removes a model, this process must stop serving from what it remembered.

A signal has `bump()` (called after such a change is committed) and `read()` (a value that
moves whenever some process bumped). The serving table compares `read()` with what it saw at
its last refresh before it serves from memory.

- SQLite (one host by nature): the modification time of `DATA_DIR/.loaded-set`.
- PostgreSQL: LISTEN/NOTIFY. Replicas on different hosts share the database but not a disk,
  so a file's mtime would never reach them. A listener thread holds one connection in LISTEN
  and counts notifications; `bump()` sends one through the database, which delivers it to
  every listener, this process's own included.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Protocol

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend.db.session import Database

log = logging.getLogger(__name__)

CHANNEL = "toxiclf_serving"


class ServingSignal(Protocol):
    def bump(self) -> None: ...

    def read(self) -> int: ...

    def close(self) -> None: ...


class LoadedSetStamp:
    """The mtime of one file under DATA_DIR, touched on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def bump(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        now = time.time_ns()
        os.utime(self.path, ns=(now, now))

    def read(self) -> int:
        try:
            return os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return 0

    def close(self) -> None:
        pass


class PgNotifySignal:
    """LISTEN/NOTIFY on `CHANNEL`, with a listener thread that reconnects when the database
    goes away. While it is not listening, `read()` moves on every call, so the serving table
    re-reads the database for each request instead of trusting a table it cannot keep fresh.
    """

    RECONNECT_AFTER_S = 1.0

    def __init__(self, db: Database) -> None:
        self.db = db
        url = make_url(db.url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._count = 0
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="serving-listen", daemon=True)

    def start(self, wait_s: float = 5.0) -> PgNotifySignal:
        self._thread.start()
        if not self._listening.wait(wait_s):
            log.warning("not yet listening for serving changes; re-reading on every request")
        return self

    def bump(self) -> None:
        self._advance()  # this process sees its own change at once, before the round trip
        try:
            with self.db.engine.begin() as conn:
                conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
        except Exception:  # the change is committed; other replicas catch up on their recheck
            log.exception("could not notify other processes of a serving change")

    def read(self) -> int:
        if not self._listening.is_set():
            return time.monotonic_ns()
        return self._count

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _advance(self) -> None:
        with self._lock:
            self._count += 1

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Changes made while nobody listened are unknown: count one for them.
                    self._advance()
                    self._listening.set()
                    while not self._stopping.is_set():
                        for _notify in conn.notifies(timeout=1.0):
                            self._advance()
            except psycopg.Error as exc:
                if self._listening.is_set():
                    log.warning("lost the LISTEN connection (%s); reconnecting", exc)
            finally:
                self._listening.clear()
            self._stopping.wait(self.RECONNECT_AFTER_S)


def make_serving_signal(db: Database, data_dir: Path) -> ServingSignal:
    if db.is_sqlite:
        return LoadedSetStamp(data_dir / ".loaded-set")
    return PgNotifySignal(db).start()
