"""Which models this process may serve, without a database query per prediction.

Every change to the loaded set or to aliases bumps the modification time of one file under
DATA_DIR; a process compares that stamp (one `stat`) before serving and re-reads the loaded
models and aliases from the database only when it moved, or after `max_age_s` in any case so
that servers on other hosts sharing the database catch up too.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sqlalchemy import select

from backend.db.models import AliasRow, ModelRow
from backend.db.session import Database


class LoadedSetStamp:
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


class ServingTable:
    def __init__(self, db: Database, stamp: LoadedSetStamp, max_age_s: float = 1.0) -> None:
        self.db = db
        self.stamp = stamp
        self.max_age_s = max_age_s
        self._rows: dict[str, ModelRow] = {}
        self._aliases: dict[str, str] = {}
        self._seen_stamp = -1
        self._refreshed_at = 0.0
        self._lock = threading.Lock()

    def is_stale(self) -> bool:
        return (
            self.stamp.read() != self._seen_stamp
            or time.monotonic() - self._refreshed_at > self.max_age_s
        )

    def refresh(self) -> None:
        with self._lock:
            stamp = self.stamp.read()
            with self.db.session() as session:
                rows = session.scalars(select(ModelRow).where(ModelRow.loaded.is_(True))).all()
                aliases = session.scalars(select(AliasRow)).all()
            self._rows = {row.id: row for row in rows}
            self._aliases = {f"{a.name}@{a.alias}": a.model_id for a in aliases}
            self._seen_stamp = stamp
            self._refreshed_at = time.monotonic()

    def lookup(self, model_ref: str) -> ModelRow | None:
        """The loaded model `model_ref` names (id or name@alias), or None."""
        model_id = self._aliases.get(model_ref) if "@" in model_ref else model_ref
        return self._rows.get(model_id) if model_id else None
