"""Evaluate a stored model on a stored dataset, or on its own held-out split: the work
`POST /models/evaluate` does.

It runs in a worker process of its own (services/dataset_evaluation.py), so its time and memory are
bounded and never the web process's: evaluating a 5,000-class model on a large dataset took
37 s and 2.5 GB inside the web process before.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.ml.artifacts import load_pipeline
from backend.ml.metrics import compute_metrics, confusion, pr_points, roc_points
from backend.ml.threshold import decide
from backend.ml.training import FitJob, load_split, positive_class, read_dataset

# Texts vectorized and scored at once. The default models' word and character n-grams make
# a sparse matrix of about 12 KB per comment: 70,000 rows at once grew the worker by 0.7 GB.
SCORE_BATCH = 5_000


class EvaluationRefused(Exception):
    """The dataset cannot be used to evaluate this model (its labels are all unknown)."""


@dataclass(frozen=True)
class EvaluateJob:
    model_id: str
    model_path: str
    model_sha256: str | None
    dataset_id: str
    dataset_path: str
    label_kind: str
    classes: list[Any]  # the model's recorded classes; empty = ask the pipeline
    positive_label: Any  # the dataset's positive label, else the model's
    threshold: float | None  # the binary model's stored decision threshold
    max_classes: int  # MAX_CLASSES: larger confusion matrices are left out
    # Set for `split: holdout`: the job that trained the model, whose held-out rows are
    # re-created (ml.training.load_split) instead of reading the dataset whole.
    holdout: FitJob | None = None


def _labelled_texts(job: EvaluateJob) -> tuple[list[str], np.ndarray]:
    if job.holdout is not None:
        _x_train, x_test, _y_train, y_test = load_split(job.holdout)
        return list(x_test), np.asarray(y_test)
    frame = read_dataset(job.dataset_path, job.label_kind)
    return frame["text"].tolist(), frame["label"].to_numpy()


def evaluate_model(job: EvaluateJob) -> dict[str, Any]:
    """Metrics, curves and confusion matrix of the model on the whole dataset (or on its own
    held-out split)."""
    pipeline = load_pipeline(Path(job.model_path), job.model_sha256)
    texts, truth = _labelled_texts(job)
    classes = list(job.classes or np.asarray(pipeline.classes_).tolist())
    labels = np.unique(truth)
    unknown = sorted({str(v) for v in labels} - {str(c) for c in classes})
    if len(unknown) == len(labels):
        raise EvaluationRefused(
            f"dataset {job.dataset_id} has labels {unknown[:10]} and the model knows "
            f"{[str(c) for c in classes[:20]]}; evaluate on data labelled like the training data"
        )
    positive = positive_class(classes, job.positive_label)
    scores, predictions, cut = _decide_in_batches(pipeline, texts, classes, positive, job)
    return {
        "classes": classes,
        "metrics": compute_metrics(truth, predictions, scores, classes, positive, threshold=cut),
        "roc": roc_points(truth, scores, classes, positive),
        "pr": pr_points(truth, scores, classes, positive) if len(classes) == 2 else None,
        "confusion_matrix": confusion(truth, predictions, classes, job.max_classes),
    }


def _decide_in_batches(
    pipeline: Any, texts: list[str], classes: list[Any], positive: Any, job: EvaluateJob
) -> tuple[np.ndarray, list[Any], float | None]:
    """`decide` on SCORE_BATCH texts at a time: the same rows, a fraction of the memory."""
    parts: list[np.ndarray] = []
    predictions: list[Any] = []
    cut: float | None = None
    for start in range(0, len(texts), SCORE_BATCH):
        scores, labels, cut = decide(
            pipeline, texts[start : start + SCORE_BATCH], classes, positive, job.threshold
        )
        parts.append(scores)
        predictions += list(labels)
    return np.vstack(parts), predictions, cut


def evaluate_in_worker(job: EvaluateJob) -> dict[str, Any]:
    """`evaluate_model`, then hand the model's and data's memory back to the OS."""
    try:
        return evaluate_model(job)
    finally:
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
            ctypes.CDLL("libc.so.6").malloc_trim(0)
