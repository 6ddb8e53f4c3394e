"""The fit job that runs inside a worker process: load → vectorize → fit → evaluate → save.

Nothing here touches the database or the web app: progress leaves through a callback, the
result is a plain dataclass, and the artifact is written straight to its final path.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from backend.ml import drift
from backend.ml.artifacts import atomic_write_bytes, dumps_compact
from backend.ml.auto import auto_fit
from backend.ml.holdout import evaluate_with_curve
from backend.ml.metrics import compute_metrics
from backend.ml.model_size import ModelTooLarge, estimate_model_bytes, refuse_if_too_large
from backend.ml.pipeline import build_classifier, build_vectorizer, score_matrix
from backend.ml.search import grid_search
from backend.ml.threshold import decide, tune_on_training

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class FitJob:
    task_id: str
    model_id: str
    dataset_path: str
    label_kind: str
    model_type: str
    params: dict[str, Any]
    vectorizer: dict[str, Any]
    test_size: float
    random_state: int
    artifact_path: str
    positive_label: Any = None
    max_rows: int = 0  # 0 = every row
    extra_dataset_paths: tuple[str, ...] = ()
    search: dict[str, Any] | None = None  # {"param_grid", "cv", "scoring"}: a grid search
    joblib_backend: str | None = None  # "ray" when the fit runs on a Ray cluster
    tune_threshold: bool = False  # binary: choose the cut maximising F1 on held-out folds
    max_model_bytes: int = 0  # MAX_MODEL_MB; 0 = no limit
    max_classes: int = 0  # MAX_CLASSES; 0 = no limit


@dataclass
class FitOutcome:
    metrics: dict[str, Any]
    classes: list[Any]
    artifact_sha256: str
    sklearn_version: str = sklearn.__version__
    python_version: str = platform.python_version()
    timings: dict[str, float] = field(default_factory=dict)
    threshold: float | None = None  # binary models' tuned decision threshold; None = default
    drift_reference: dict[str, Any] | None = None  # see ml/drift.py
    # Set when the fit chose them (model_type auto): what the model row should record.
    params: dict[str, Any] | None = None
    vectorizer: dict[str, Any] | None = None
    holdout: dict[str, Any] | None = None  # binary: held-out scores in compact form (ml/holdout)


def read_dataset(path: str, label_kind: str) -> pd.DataFrame:
    """Read a stored dataset (`text,label` CSV) with labels in their original type."""
    frame = pd.read_csv(
        path, dtype={"text": str, "label": str}, keep_default_na=False, encoding="utf-8"
    )
    if label_kind == "int":
        frame["label"] = frame["label"].astype(np.int64)
    return frame


def split(frame: pd.DataFrame, test_size: float, random_state: int) -> tuple[Any, ...]:
    """Stratified split when every class can be split, else a plain shuffled one."""
    counts = frame["label"].value_counts()
    n_test = int(np.ceil(len(frame) * test_size))
    stratify = frame["label"] if counts.min() >= 2 and n_test >= len(counts) else None
    return train_test_split(
        frame["text"].tolist(),
        frame["label"].to_numpy(),
        test_size=test_size,
        random_state=random_state,
        stratify=stratify,
    )


def positive_class(classes: list[Any], positive_label: Any) -> Any:
    return positive_label if positive_label in classes else classes[-1]


def load_split(job: FitJob) -> tuple[Any, ...]:
    """The job's rows as (x_train, x_test, y_train, y_test), exactly as its fit splits them
    (evaluate's held-out split re-creates them from the same job)."""
    frames = [read_dataset(p, job.label_kind) for p in (job.dataset_path, *job.extra_dataset_paths)]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if job.max_rows and len(frame) > job.max_rows:
        frame = frame.sample(n=job.max_rows, random_state=job.random_state)
    return tuple(split(frame, job.test_size, job.random_state))


FeatureCache = dict[str, tuple[Any, Any]]  # (data and vectorizer) → (fitted vectorizer, matrix)


def run_fit(job: FitJob, progress: ProgressFn, cache: FeatureCache | None = None) -> FitOutcome:
    """Train, evaluate on the held-out split and save the pipeline for `job`.

    `cache`, shared by fits of one process, lets jobs on the same rows with the same
    vectorizer settings (the default models) fit the vectorizer once.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()

    progress(0.02, "loading")
    x_train, x_test, y_train, y_test = load_split(job)
    timings["loading"] = time.perf_counter() - started

    classes = sorted(np.unique(y_train).tolist())
    positive = positive_class(classes, job.positive_label)
    if job.model_type == "auto":
        trained = _train_auto(job, x_train, y_train, positive, progress, timings)
    else:
        trained = _train_configured(job, x_train, y_train, positive, progress, timings, cache)
    vectorizer, classifier, threshold = trained.vectorizer, trained.classifier, trained.threshold
    classes = np.asarray(classifier.classes_).tolist()
    search_summary = trained.search_summary
    pipeline = Pipeline([("vectorizer", vectorizer), ("classifier", classifier)])

    progress(0.8, "evaluating")
    mark = time.perf_counter()
    metrics, holdout = evaluate_with_curve(pipeline, x_test, y_test, classes, positive, threshold)
    metrics["n_train"] = len(x_train)
    reference = drift.reference_profile(
        drift.OovMeter(pipeline), x_test, score_matrix(pipeline, x_test)[1], classes, y_test
    )
    if search_summary is not None:
        metrics["search"] = search_summary
    timings["evaluating"] = time.perf_counter() - mark

    progress(0.9, "saving")
    mark = time.perf_counter()
    payload = dumps_compact(pipeline)
    refuse_if_too_large(len(payload), job.max_model_bytes, estimated=False)
    sha = atomic_write_bytes(Path(job.artifact_path), payload)
    del payload
    timings["saving"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    progress(1.0, "saving")
    return FitOutcome(
        metrics=metrics,
        classes=classes,
        artifact_sha256=sha,
        timings=timings,
        threshold=threshold,
        drift_reference=reference,
        params=trained.params,
        vectorizer=trained.vectorizer_params,
        holdout=holdout,
    )


@dataclass
class _Trained:
    vectorizer: Any
    classifier: Any
    threshold: float | None = None
    search_summary: dict[str, Any] | None = None
    params: dict[str, Any] | None = None  # what the model row records, when the fit chose it
    vectorizer_params: dict[str, Any] | None = None


def _train_configured(
    job: FitJob,
    x_train: list[str],
    y_train: np.ndarray,
    positive: Any,
    progress: ProgressFn,
    timings: dict[str, float],
    cache: FeatureCache | None = None,
) -> _Trained:
    """The requested vectorizer and classifier (or the best of a grid search)."""
    progress(0.1, "vectorizing")
    mark = time.perf_counter()
    key = json.dumps(
        [
            job.dataset_path,
            job.extra_dataset_paths,
            job.max_rows,
            job.test_size,
            job.random_state,
            job.vectorizer,
        ],
        sort_keys=True,
        default=str,
    )
    if cache is not None and key in cache:
        vectorizer, features = cache[key]
    else:
        vectorizer = build_vectorizer(job.vectorizer)
        features = vectorizer.fit_transform(x_train)
        if cache is not None:
            cache[key] = (vectorizer, features)
    timings["vectorizing"] = time.perf_counter() - mark
    refuse_oversized_fit(job, vectorizer, len(np.unique(y_train)))

    progress(0.4, "fitting" if job.search is None else "searching")
    mark = time.perf_counter()
    classifier = build_classifier(job.model_type, job.params, job.random_state)
    classes = sorted(np.unique(y_train).tolist())
    search_summary = None
    if job.search is None:
        classifier.fit(features, y_train)
    else:
        classifier, search_summary = grid_search(
            classifier,
            features,
            y_train,
            job.search,
            classes,
            positive,
            job.random_state,
            job.joblib_backend,
        )
    threshold = None
    if job.tune_threshold and len(classes) == 2:
        progress(0.7, "tuning threshold")
        threshold = tune_on_training(classifier, features, y_train, positive, job.random_state)
    timings["fitting"] = time.perf_counter() - mark
    return _Trained(vectorizer, classifier, threshold, search_summary)


def _train_auto(
    job: FitJob,
    x_train: list[str],
    y_train: np.ndarray,
    positive: Any,
    progress: ProgressFn,
    timings: dict[str, float],
) -> _Trained:
    """`model_type: "auto"`: search kinds and features within the budget (see ml/auto.py)."""
    mark = time.perf_counter()
    result = auto_fit(
        x_train,
        y_train,
        positive,
        job.random_state,
        float(job.params.get("budget_s", 300)),
        progress,
        job.joblib_backend,
    )
    timings["searching"] = time.perf_counter() - mark
    return _Trained(
        result.vectorizer,
        result.classifier,
        result.threshold,
        params={**job.params, "chosen": result.chosen},
        vectorizer_params=result.vectorizer_params,
    )


def refuse_oversized_fit(job: FitJob, vectorizer: Any, n_classes: int) -> None:
    """Fail before fitting when the classes or the model's estimated size pass the limits."""
    if job.max_classes and n_classes > job.max_classes:
        raise ModelTooLarge(
            f"the training data has {n_classes:,} classes, over MAX_CLASSES={job.max_classes}"
        )
    estimate = estimate_model_bytes(vectorizer, n_classes, job.model_type)
    refuse_if_too_large(estimate, job.max_model_bytes, estimated=True)


def evaluate_split(
    pipeline: Any,
    texts: list[str],
    truth: np.ndarray,
    classes: list[Any],
    positive: Any,
    threshold: float | None,
) -> dict[str, Any]:
    """Metrics of `pipeline` on labelled texts, deciding binary labels by the threshold in use."""
    scores, predictions, cut = decide(pipeline, texts, classes, positive, threshold)
    return compute_metrics(truth, predictions, scores, classes, positive, threshold=cut)


# --- worker-process plumbing -------------------------------------------------------------
# The pool's initializer hands each worker the progress queue; `fit_in_worker` is the
# function submitted to the pool.

_progress_queue: Any = None
WORKER_NICENESS = 10  # added to a fit or evaluation worker's nice value (init_worker)


def init_worker(progress_queue: Any, parent_pid: int, job: str = "fit") -> None:
    """Pool initializer: keep the queue, and exit if the server process dies.

    The process is named `toxiclf-<job>` (what `ps` and `top` show), so that operators and
    tests tell fit workers from the evaluation worker.
    """
    global _progress_queue
    _progress_queue = progress_queue
    with contextlib.suppress(OSError):  # Linux only; a name is a courtesy, not a need
        Path("/proc/self/comm").write_text(f"toxiclf-{job}"[:15])
    import signal
    import threading

    # A SIGTERM/SIGINT sent to the whole process group (Ctrl-C, systemd, killpg) must not kill
    # workers before the server shuts down in order: a fit would fail as "worker died" and
    # the runner would claim queued tasks just to lose them. The server SIGKILLs workers on
    # shutdown, and orphaned workers exit on their own (below).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One BLAS/OpenMP thread per worker: the pool already has a worker per spare core, and
    # more threads would take the core the server answers predictions on.
    threadpool_limits(1)
    # Where a fit and the server share a core, serving comes first: at nice 10 the scheduler
    # gives the server ~90% of a contended core (1-text p99 with two fits on the server's
    # core: 19.6 ms at nice 0, against 6.5 ms without fits). On an idle core a fit runs at
    # full speed, since niceness only weighs runnable processes against each other.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)

    def watch_parent() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(1)  # orphaned: the server is gone, so nobody wants this result

    threading.Thread(target=watch_parent, daemon=True, name="parent-watch").start()


def fit_in_worker(job: FitJob) -> FitOutcome:
    pid = os.getpid()

    def report(value: float, stage: str) -> None:
        if _progress_queue is not None:
            _progress_queue.put((job.task_id, pid, value, stage))

    report(0.0, "loading")
    return run_fit(job, report)


def fit_quietly(jobs: list[FitJob]) -> list[FitOutcome]:
    """Run several fits in one process without progress reports (the default models)."""
    with threadpool_limits(1):  # faster for these sizes, and leaves a core to the server
        cache: FeatureCache = {}
        return [run_fit(job, lambda _value, _stage: None, cache) for job in jobs]
