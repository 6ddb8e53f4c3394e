"""Drift of served models: live predictions from the prediction log against the reference
profile each model keeps from its validation split (numbers in ml/drift.py).

A report reads only three columns of one model's log rows in a window (time, count, packed
feature rows), so 100,000 logged predictions answer well under a second (bench/drift_bench.py).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import String, select, type_coerce

from backend.db.models import PredictionFeaturesRow, utcnow
from backend.db.session import Database
from backend.errors import BadRequest, Conflict
from backend.ml import drift
from backend.schemas.monitoring import DriftFeature, DriftReport, HourCount
from backend.services.registry import ModelRegistry
from backend.settings import Settings

STATUSES = ("ok", "drift", "too_few")


class DriftService:
    def __init__(self, db: Database, registry: ModelRegistry, settings: Settings) -> None:
        self.db = db
        self.registry = registry
        self.settings = settings
        # model id → (monotonic time, report over the default window): what /metrics shows.
        self._latest: dict[str, tuple[float, DriftReport]] = {}
        self._lock = threading.Lock()

    def report(
        self, model_ref: str, since: datetime | None = None, until: datetime | None = None
    ) -> DriftReport:
        """PSI per feature of the model's logged predictions in [since, until)."""
        if "\x00" in model_ref:
            raise BadRequest("the model id must not contain NUL characters")
        row = self.registry.row(model_ref)
        profile = row.drift_reference
        if not profile:
            raise Conflict(
                f"model {row.id} has no drift reference (it was uploaded, or trained before "
                "drift monitoring); retrain it to measure drift"
            )
        default_window = since is None and until is None
        until = until or utcnow()
        try:
            since = since or until - timedelta(hours=self.settings.drift_window_hours)
        except OverflowError:
            raise BadRequest(
                "until is too early to look a window back from; give since too"
            ) from None
        if since >= until:
            raise BadRequest(
                f"since ({since:%Y-%m-%dT%H:%M:%S}) must be before until "
                f"({until:%Y-%m-%dT%H:%M:%S})"
            )
        times, counts, rows = self._window(
            row.id, since, until, drift.FIRST_SCORE + len(profile["classes"])
        )
        features = drift.compare(profile, rows)
        worst = max(features, key=lambda name: features[name]["psi"]) if features else None
        n = len(rows)
        if n < self.settings.drift_min_predictions:
            status = "too_few"
        elif worst is not None and features[worst]["psi"] >= self.settings.drift_psi_threshold:
            status = "drift"
        else:
            status = "ok"
        report = DriftReport(
            model_id=row.id,
            n=n,
            status=status,
            since=since,
            until=until,
            threshold=self.settings.drift_psi_threshold,
            min_predictions=self.settings.drift_min_predictions,
            most_moved=worst if n else None,
            features={name: DriftFeature(**values) for name, values in features.items()},
            hourly=_hourly(times, counts),
            reference_n=int(profile.get("n", 0)),
            score_by_true_class=profile.get("score_by_true_class"),
        )
        if default_window:
            with self._lock:
                self._latest[row.id] = (time.monotonic(), report)
        return report

    def _window(
        self, model_id: str, since: datetime, until: datetime, width: int
    ) -> tuple[list[Any], list[int], np.ndarray]:
        # The time as the driver gives it: parsing SQLite's time strings into datetimes was
        # most of the time before features were stored per writer batch.
        statement = select(
            type_coerce(PredictionFeaturesRow.created_at, String),
            PredictionFeaturesRow.n,
            PredictionFeaturesRow.features,
        ).where(
            PredictionFeaturesRow.model_id == model_id,
            PredictionFeaturesRow.created_at >= since,
            PredictionFeaturesRow.created_at < until,
            PredictionFeaturesRow.width == width,  # another width: a replaced model file
        )
        with self.db.engine.connect() as connection:
            found = connection.execute(statement).all()
        rows = drift.unpack([r[2] for r in found], width)
        return [r[0] for r in found], [r[1] for r in found], rows

    def latest(self, model_ids: list[str]) -> dict[str, DriftReport]:
        """The last default-window report per model, recomputed when older than
        DRIFT_METRICS_INTERVAL_S; models without a reference are left out."""
        reports: dict[str, DriftReport] = {}
        for model_id in model_ids:
            with self._lock:
                cached = self._latest.get(model_id)
            if cached and time.monotonic() - cached[0] < self.settings.drift_metrics_interval_s:
                reports[model_id] = cached[1]
                continue
            try:
                reports[model_id] = self.report(model_id)
            except (Conflict, BadRequest, LookupError):
                continue
            except Exception:  # noqa: BLE001 - a scrape must not fail for one model
                if cached:
                    reports[model_id] = cached[1]
        return reports


def _hourly(times: list[Any], counts: list[int]) -> list[HourCount]:
    """Predictions per hour; `times` are SQLite's strings or PostgreSQL's datetimes."""
    per_hour: Counter[str] = Counter()
    for moment, count in zip(times, counts, strict=True):
        text = moment if isinstance(moment, str) else moment.isoformat(sep=" ")
        per_hour[text[:13]] += count
    return [
        HourCount(hour=datetime.strptime(hour, "%Y-%m-%d %H"), n=n)
        for hour, n in sorted(per_hour.items())
    ]


def metric_samples(reports: dict[str, DriftReport]) -> dict[str, Any]:
    """What /metrics exposes: status one-hot, PSI per feature, predictions per model."""
    return {
        "status": [
            (model_id, status, 1.0 if report.status == status else 0.0)
            for model_id, report in reports.items()
            for status in STATUSES
        ],
        "psi": [
            (model_id, name, feature.psi)
            for model_id, report in reports.items()
            for name, feature in report.features.items()
        ],
        "n": [(model_id, float(report.n)) for model_id, report in reports.items()],
    }
