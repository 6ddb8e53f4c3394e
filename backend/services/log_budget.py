"""A size and row budget for the prediction log, oldest rows dropped first.

Retention by age alone let the log grow without bound under load (each call's row weighs
11-17x its request when texts are kept). Every row records its approximate size when it is
written (`size_bytes`); `enforce` runs every few seconds in each server process and deletes
the oldest rows past `PREDICTION_LOG_MAX_ROWS` or `PREDICTION_LOG_MAX_MB`. The figures it saw
are exposed in /metrics. Kept apart from the log writer: it only needs the table.

Counting rows and summing sizes reads the whole table: with a million rows, doing that every
few seconds took the core from the event loop for tenths of a second at a time. So a
check first bounds the log from the id index (rows <= max id - min id + 1, since ids only grow
and rows go oldest first) and the size of its newest rows, and scans only when that bound is
near the budget, or once every EXACT_EVERY_S in any case.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import delete, func, select

from backend.db.models import PredictionLogRow
from backend.db.session import Database

log = logging.getLogger(__name__)

# Columns besides `items` (time, ids, counts) and the database's per-row overhead.
ROW_OVERHEAD_BYTES = 100
EXACT_EVERY_S = 60.0
SIZE_SAMPLE_ROWS = 1000  # the newest rows whose mean size stands for all
NEAR_BUDGET = 0.9  # an estimate above this share of a limit gets the exact scan


def row_size(items: list[Any]) -> int:
    """Approximate stored size of a prediction log row whose per-text `items` are given."""
    return ROW_OVERHEAD_BYTES + len(orjson.dumps(items, option=orjson.OPT_NON_STR_KEYS))


class PredictionLogBudget:
    def __init__(self, db: Database, *, max_rows: int, max_bytes: int) -> None:
        self.db = db
        self.max_rows = max_rows  # 0 = no row limit
        self.max_bytes = max_bytes  # 0 = no size limit
        self.rows = 0
        self.bytes = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._exact_at = float("-inf")

    def enforce(self) -> int:
        """Delete the oldest rows past the budget; the number deleted."""
        if not (self.max_rows or self.max_bytes):
            return 0
        with self._lock:
            try:
                deleted = self._enforce()
            except Exception:  # the budget must never break the task runner's tick
                log.exception("could not enforce the prediction log budget")
                return 0
        if deleted:
            self.dropped += deleted
            log.info("prediction log over budget: dropped the %d oldest rows", deleted)
        return deleted

    def _within_budget(self) -> bool:
        """True when a cheap bound shows the log well inside its budget (figures updated)."""
        table = PredictionLogRow
        with self.db.session() as session:
            low, high = session.execute(select(func.min(table.id), func.max(table.id))).one()
            if low is None:
                self.rows, self.bytes = 0, 0
                return True
            newest = select(table.size_bytes).order_by(table.id.desc()).limit(SIZE_SAMPLE_ROWS)
            mean_size = session.scalar(select(func.avg(newest.subquery().c.size_bytes))) or 0
        rows = int(high) - int(low) + 1
        size = int(rows * float(mean_size))
        if self.max_rows and rows > self.max_rows * NEAR_BUDGET:
            return False
        if self.max_bytes and size > self.max_bytes * NEAR_BUDGET:
            return False
        self.rows, self.bytes = rows, size
        return True

    def _enforce(self) -> int:
        now = time.monotonic()
        if now - self._exact_at < EXACT_EVERY_S and self._within_budget():
            return 0
        self._exact_at = now
        table = PredictionLogRow
        with self.db.session() as session:
            rows, size = session.execute(
                select(func.count(), func.coalesce(func.sum(table.size_bytes), 0))
            ).one()
            self.rows, self.bytes = int(rows), int(size)
            cut: int | None = None  # rows with id <= cut go
            if self.max_rows and self.rows > self.max_rows:
                cut = session.scalar(
                    select(table.id).order_by(table.id.desc()).offset(self.max_rows).limit(1)
                )
            if self.max_bytes and self.bytes > self.max_bytes:
                newest_first = func.sum(table.size_bytes).over(order_by=table.id.desc())
                running = select(table.id, newest_first.label("running")).subquery()
                by_size = session.scalar(
                    select(func.max(running.c.id)).where(running.c.running > self.max_bytes)
                )
                if by_size is not None:
                    cut = by_size if cut is None else max(cut, by_size)
            if cut is None:
                return 0
            result = session.execute(delete(table).where(table.id <= cut))
            deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DELETE answers a CursorResult
            rows, size = session.execute(
                select(func.count(), func.coalesce(func.sum(table.size_bytes), 0))
            ).one()
            self.rows, self.bytes = int(rows), int(size)
        return deleted

    def collector(self) -> Collector:
        return _BudgetCollector(self)


class _BudgetCollector(Collector):
    """The figures of the last check; a scrape does not touch the database."""

    def __init__(self, budget: PredictionLogBudget) -> None:
        self.budget = budget

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        budget = self.budget
        yield GaugeMetricFamily(
            "prediction_log_rows",
            "Rows in the prediction log at the last budget check",
            value=budget.rows,
        )
        yield GaugeMetricFamily(
            "prediction_log_bytes",
            "Approximate size of the prediction log at the last budget check",
            value=budget.bytes,
        )
        yield GaugeMetricFamily(
            "prediction_log_max_rows", "PREDICTION_LOG_MAX_ROWS (0: none)", value=budget.max_rows
        )
        yield GaugeMetricFamily(
            "prediction_log_max_bytes",
            "PREDICTION_LOG_MAX_MB in bytes (0: none)",
            value=budget.max_bytes,
        )
        yield CounterMetricFamily(
            "prediction_log_dropped_rows",
            "Oldest prediction log rows this process deleted to stay within the budget",
            value=budget.dropped,
        )
