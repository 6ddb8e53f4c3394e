"""Which models this process may serve, without a database query per prediction.

Every change to the loaded set or to aliases bumps a change signal (serving_signal.py: a
file's mtime on SQLite, LISTEN/NOTIFY on PostgreSQL); a process compares the signal before
serving and re-reads the loaded models and aliases from the database only when it moved, or
after `max_age_s` (SERVING_RECHECK_S) in any case, as a safety net.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from backend.db.models import AliasRow, ModelRow
from backend.db.session import Database
from backend.services.serving_signal import ServingSignal


class ServingTable:
    def __init__(self, db: Database, stamp: ServingSignal, max_age_s: float = 1.0) -> None:
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
