"""Monitoring costs (issue 16), in process on a fresh database:

1. drift: `DriftService.report` over 100,000 logged predictions (as 100,000 one-text calls and
   as 1,000 calls of 100 texts), target < 1 s;
2. the prediction log's CPU per call (request path + writer thread: hashes, drift features,
   JSON, SQL insert) against the CPU of the prediction itself, target ≤ 10 %.

    python bench/monitoring_bench.py                    # SQLite in a temp dir
    BENCH_POSTGRES_URL=postgresql+psycopg://... python bench/monitoring_bench.py   # + PostgreSQL

Texts are `../shared/data/toxic_en.csv`; the model is the default models' pipeline (TF-IDF
(1, 2), min_df 2, sublinear + logistic regression) fitted on 8,000 of them.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from backend.db.migrate import upgrade_to_head  # noqa: E402
from backend.db.models import ModelRow, PredictionFeaturesRow  # noqa: E402
from backend.db.session import Database  # noqa: E402
from backend.ml import drift  # noqa: E402
from backend.ml.pipeline import build_pipeline, score_matrix  # noqa: E402
from backend.services.drift import DriftService  # noqa: E402
from backend.services.inference import LoadedModel  # noqa: E402
from backend.services.prediction_log import (  # noqa: E402
    FEATURES_FLUSH_S,
    PredictionLog,
    _feature_rows,
    text_hash,
)
from backend.services.registry import ModelRegistry  # noqa: E402
from backend.settings import Settings  # noqa: E402

DATA = REPO_ROOT.parent / "shared" / "data" / "toxic_en.csv"
TOTAL = 100_000


def fitted() -> tuple[Any, list[str], list[str], Any]:
    frame = pd.read_csv(DATA, keep_default_na=False)
    pipeline = build_pipeline(
        "logreg",
        {"C": 4.0},
        {"type": "tfidf", "ngram_range": [1, 2], "min_df": 2, "sublinear_tf": True},
    )
    pipeline.fit(frame["text"][:8000].tolist(), frame["label"][:8000])
    validation = frame["text"][8000:10000].tolist()
    live = frame["text"][10000:].astype(str).tolist()
    return pipeline, validation, live, frame["label"][8000:10000].to_numpy()


def database(url: str | None, folder: Path) -> Database:
    db = Database(url or f"sqlite:///{folder / 'bench.db'}")
    upgrade_to_head(db, folder)
    return db


def fill_log(db: Database, model: LoadedModel, live: list[str], per_call: int) -> int:
    """TOTAL predictions of `model` as TOTAL / per_call calls evenly over the last 10 hours,
    stored as the log writer stores them (a features row per model per FEATURES_FLUSH_S)."""
    pool = live[:5000]
    # Every text measured, then the OOV share kept on LIVE_OOV_SAMPLE texts per call, as the
    # server does for calls of more texts than that.
    features = drift.feature_rows(model.oov, pool, score_matrix(model.pipeline, pool)[1])
    if per_call > drift.LIVE_OOV_SAMPLE:
        keep = np.zeros(len(pool), dtype=bool)
        for start in range(0, len(pool) - per_call + 1, per_call):
            picked = np.linspace(0, per_call - 1, drift.LIVE_OOV_SAMPLE).astype(int)
            keep[start + picked] = True
        features[~keep, drift.OOV] = np.nan
    width = features.shape[1]
    now = time.time()
    calls = TOTAL // per_call
    groups: dict[int, list[Any]] = {}
    for call in range(calls):
        start = (call * per_call) % (len(pool) - per_call)
        moment = now - 36_000 * (calls - call) / calls
        groups.setdefault(int(moment // FEATURES_FLUSH_S), []).append(
            (moment, per_call, drift.pack(features[start : start + per_call]))
        )
    rows = [_feature_rows({(model.model_id, width): run})[0] for run in groups.values()]
    with db.session() as session:
        session.execute(insert(PredictionFeaturesRow), rows)
    return len(rows)


def drift_seconds(
    url: str | None,
    pipeline: Any,
    validation: list[str],
    labels: Any,
    live: list[str],
    per_call: int,
) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as folder:
        db = database(url, Path(folder))
        classes = np.asarray(pipeline.classes_).tolist()
        profile = drift.reference_profile(
            drift.OovMeter(pipeline),
            validation,
            score_matrix(pipeline, validation)[1],
            classes,
            labels,
        )
        model_id = f"bench-{per_call}"
        with db.session() as session:
            session.add(
                ModelRow(
                    id=model_id,
                    name=model_id,
                    version=1,
                    model_type="logreg",
                    params={},
                    vectorizer={},
                    status="trained",
                    loaded=True,
                    classes=classes,
                    drift_reference=profile,
                )
            )
        model = LoadedModel(model_id, pipeline, classes, None)
        stored_rows = fill_log(db, model, live, per_call)
        service = DriftService(db, ModelRegistry(db), Settings(data_dir=Path(folder)))
        times = []
        for _ in range(3):
            started = time.perf_counter()
            report = service.report(model_id)
            times.append(time.perf_counter() - started)
        assert report.n == TOTAL, report.n
        db.dispose()
        return statistics.median(times), f"{report.status}, {stored_rows:,} feature rows"


def log_cpu(pipeline: Any, live: list[str], batch: int, calls: int) -> dict[str, float]:
    """CPU seconds per call: the prediction, and the log's work with and without features."""
    classes = np.asarray(pipeline.classes_).tolist()
    model = LoadedModel("bench", pipeline, classes, None)
    batches = [live[(i * batch) % 5000 : (i * batch) % 5000 + batch] for i in range(calls)]
    started = time.process_time()
    outputs = [model._compute("predict", texts) for texts in batches]
    predict_cpu = (time.process_time() - started) / calls
    figures = {"predict": predict_cpu}
    for name, features in (
        ("log, before (hashes only)", None),
        ("log, with drift features", model.live_features),
    ):
        with tempfile.TemporaryDirectory() as folder:
            db = database(None, Path(folder))
            log = PredictionLog(db, keep_texts=False, retention_days=30)
            started = time.process_time()  # the writer thread's CPU counts too
            for texts, (labels, scores) in zip(batches, outputs, strict=True):
                log.record(
                    model_id="bench",
                    endpoint="predict",
                    texts=texts,
                    outputs=labels.tolist(),
                    latency_ms=1.0,
                    role=None,
                    scores=scores,
                    features=features,
                )
            log.flush(timeout=600)
            figures[name] = (time.process_time() - started) / calls
            db.dispose()
    return figures


def main() -> None:
    pipeline, validation, live, labels = fitted()
    text_hash("warm")
    print(f"## Monitoring costs ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})\n")
    print("| drift over 100,000 logged predictions | database | seconds (median of 3) | status |")
    print("|---|---|---:|---|")
    targets = [("SQLite", None)]
    if os.environ.get("BENCH_POSTGRES_URL"):
        targets.append(("PostgreSQL", os.environ["BENCH_POSTGRES_URL"]))
    for per_call in (1, 100):
        for name, url in targets:
            seconds, status = drift_seconds(url, pipeline, validation, labels, live, per_call)
            print(
                f"| {TOTAL // per_call:,} calls × {per_call} | {name} | {seconds:.3f} | {status} |"
            )
    print("\n| prediction log CPU per call (median of 3 runs) | 1 text | 100 texts |")
    print("|---|---:|---:|")
    # The machine is shared: three runs of each, the median per figure.
    runs = [(log_cpu(pipeline, live, 1, 2000), log_cpu(pipeline, live, 100, 300)) for _ in range(3)]
    one = {key: statistics.median(run[0][key] for run in runs) for key in runs[0][0]}
    hundred = {key: statistics.median(run[1][key] for run in runs) for key in runs[0][1]}
    for key in one:
        cells = [f"{figures[key] * 1e6:,.0f} µs" for figures in (one, hundred)]
        if key != "predict":
            cells = [
                f"{cell} ({figures[key] / figures['predict']:.1%})"
                for cell, figures in zip(cells, (one, hundred), strict=True)
            ]
        print(f"| {key} | {cells[0]} | {cells[1]} |")
    print(
        "\n(percentages: of the pipeline's own CPU for the same call; a served request also "
        "pays HTTP parsing and encoding, so the share of a whole request is smaller)"
    )


if __name__ == "__main__":
    main()
