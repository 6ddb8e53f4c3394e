"""The prediction log's writer thread on a real SQLite file: a batch of calls becomes rows and
drift features, and a dead kept connection costs no rows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from backend.db.migrate import upgrade_to_head
from backend.db.models import PredictionFeaturesRow, PredictionLogRow
from backend.db.session import Database
from backend.services.prediction_log import PredictionLog


def features(calls: list[tuple[list[str], Any]]) -> np.ndarray:
    """Stand-in for a model's feature function: one row per text, [length, 0, score]."""
    return np.array(
        [
            [len(text), 0.0, float(s)]
            for texts, scores in calls
            for text, s in zip(texts, scores, strict=True)
        ],
        dtype=np.float32,
    )


def record(log: PredictionLog, texts: list[str]) -> list[str]:
    return log.record(
        model_id="m",
        endpoint="predict",
        texts=texts,
        outputs=[1] * len(texts),
        latency_ms=1.0,
        role=None,
        scores=[0.5] * len(texts),
        features=features,
    )


def wait_written(log: PredictionLog, prediction_id: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while log.is_unwritten(prediction_id):
        assert time.monotonic() < deadline, "the writer never wrote the call"
        time.sleep(0.01)


def count(db: Database, table: Any) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}")
    upgrade_to_head(db, tmp_path)
    return db


def test_calls_become_rows_and_features(db: Database) -> None:
    log = PredictionLog(db, keep_texts=False, retention_days=0)
    for size in (1, 3, 1, 2):
        record(log, [f"text {i}" * (i + 1) for i in range(size)])
    log.flush()
    assert count(db, PredictionLogRow) == 4
    with db.engine.connect() as connection:
        blobs = connection.execute(select(PredictionFeaturesRow.n, PredictionFeaturesRow.features))
        rows = [(n, np.frombuffer(blob, dtype=np.float32).reshape(n, 3)) for n, blob in blobs]
    assert sum(n for n, _ in rows) == 7
    lengths = sorted(float(length) for _, matrix in rows for length in matrix[:, 0])
    expected = [len(f"text {i}" * (i + 1)) for size in (1, 3, 1, 2) for i in range(size)]
    assert lengths == sorted(expected)


def test_a_dead_kept_connection_costs_no_rows(db: Database) -> None:
    log = PredictionLog(db, keep_texts=False, retention_days=0)
    [first] = record(log, ["one"])
    wait_written(log, first)
    kept = log._conn  # the connection the writer keeps between batches
    assert kept is not None
    raw = kept.connection.dbapi_connection
    assert raw is not None
    raw.close()  # as a database restart leaves it
    [second] = record(log, ["two"])
    wait_written(log, second)
    log.flush()
    assert count(db, PredictionLogRow) == 2
