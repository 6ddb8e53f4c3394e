"""A size and row budget for the prediction log, oldest rows dropped first.

Retention by age alone let the log grow without bound under load (each call's row weighs
11-17x its request when texts are kept). Every row records its approximate size when it is
written (`size_bytes`); `enforce` runs every few seconds in each server process and deletes
the oldest rows past `PREDICTION_LOG_MAX_ROWS` or `PREDICTION_LOG_MAX_MB`. The figures it saw
are exposed in /metrics. Kept apart from the log writer: it only needs the table.
"""

from __future__ import annotations

import logging
import threading
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

    def _enforce(self) -> int:
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
