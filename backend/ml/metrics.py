"""Classification metrics on a held-out split: accuracy, precision, recall, f1, roc_auc,
macro F1 and per-class figures, and for binary models average precision and the PR curve."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

# The most points a curve in an answer has (ROC, precision-recall): plenty for a chart and
# a threshold slider.
CURVE_MAX_POINTS = 1000


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def compute_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray | list[Any],
    scores: np.ndarray,
    classes: list[Any],
    positive: Any,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Binary metrics take `positive` as the positive class; more classes use macro averages.

    `threshold` is the binary model's decision threshold that produced `y_pred`; it is
    recorded beside the figures it explains.
    """
    y_true = np.asarray(y_true)
    metrics: dict[str, Any] = {"accuracy": float(accuracy_score(y_true, y_pred))}
    binary = len(classes) == 2
    averaging: dict[str, Any] = (
        {"average": "binary", "pos_label": positive} if binary else {"average": "macro"}
    )
    metrics["precision"] = float(precision_score(y_true, y_pred, zero_division=0, **averaging))
    metrics["recall"] = float(recall_score(y_true, y_pred, zero_division=0, **averaging))
    metrics["f1"] = float(f1_score(y_true, y_pred, zero_division=0, **averaging))
    metrics["roc_auc"] = _roc_auc(y_true, scores, classes, positive)
    metrics["macro_f1"] = float(
        f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)
    )
    metrics["per_class"] = per_class(y_true, y_pred, classes)
    metrics["n_test"] = int(len(y_true))
    if binary:
        metrics["positive_label"] = positive
        metrics["average_precision"] = _average_precision(y_true, scores, classes, positive)
        if threshold is not None:
            metrics["threshold"] = float(threshold)
    return metrics


def per_class(
    y_true: np.ndarray, y_pred: np.ndarray | list[Any], classes: list[Any]
) -> dict[str, Any]:
    """`{"<label>": {"precision", "recall", "f1", "support"}}` for every class the model knows."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    return {
        str(cls): {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, cls in enumerate(classes)
    }


def _average_precision(
    y_true: np.ndarray, scores: np.ndarray, classes: list[Any], positive: Any
) -> float | None:
    truth = np.asarray(y_true) == positive
    if truth.all() or not truth.any():
        return None
    return _finite(average_precision_score(truth, scores[:, classes.index(positive)]))


def pr_points(
    y_true: np.ndarray, scores: np.ndarray, classes: list[Any], positive: Any
) -> dict[str, list[float]]:
    """Precision-recall curve of the positive class; the three lists have one point per
    threshold (the curve's closing point at recall 0 has none and is left out)."""
    truth = np.asarray(y_true) == positive
    if truth.all() or not truth.any():
        return {"precision": [], "recall": [], "thresholds": []}
    precision, recall, thresholds = precision_recall_curve(
        truth, scores[:, classes.index(positive)]
    )
    # One point per distinct score is thousands on a large dataset: thinned like the ROC.
    return thin_curve(
        {"precision": precision[:-1], "recall": recall[:-1], "thresholds": thresholds}
    )


def _roc_auc(y_true: np.ndarray, scores: np.ndarray, classes: list[Any], positive: Any) -> Any:
    present = set(np.unique(y_true).tolist())
    if len(classes) == 2:
        if len(present) < 2:
            return None
        column = classes.index(positive)
        return _finite(roc_auc_score(y_true == positive, scores[:, column]))
    # One-vs-rest macro average; works for probabilities and decision functions alike.
    aucs = [
        roc_auc_score(y_true == cls, scores[:, i])
        for i, cls in enumerate(classes)
        if cls in present and len(present) > 1
    ]
    return _finite(float(np.mean(aucs))) if aucs else None


def roc_points(
    y_true: np.ndarray, scores: np.ndarray, classes: list[Any], positive: Any
) -> dict[str, list[float]]:
    """ROC curve of the positive class against the rest (binary or one-vs-rest)."""
    truth = np.asarray(y_true) == positive
    if truth.all() or not truth.any():
        return {"fpr": [], "tpr": [], "thresholds": []}
    column = classes.index(positive)
    fpr, tpr, thresholds = roc_curve(truth, scores[:, column])
    # The first threshold is +inf, which JSON cannot carry.
    thresholds = np.where(np.isfinite(thresholds), thresholds, np.nan)
    thresholds[0] = scores[:, column].max() + 1.0 if len(thresholds) else 0
    return thin_curve({"fpr": fpr, "tpr": tpr, "thresholds": thresholds})


def thin_curve(curve: dict[str, Any], max_points: int = CURVE_MAX_POINTS) -> dict[str, list[float]]:
    """At most `max_points` points of a curve (its lists aligned), first and last kept.

    A curve has a point per distinct score: evaluating 385,000 rows answered megabytes of
    points that no chart can show. Every curve the API returns (ROC, precision-recall)
    goes through here, so they thin alike.
    """
    columns = {name: np.asarray(values, dtype=float) for name, values in curve.items()}
    length = min((len(values) for values in columns.values()), default=0)
    if length > max_points:
        keep = np.unique(np.linspace(0, length - 1, max_points).round().astype(np.int64))
        columns = {name: values[keep] for name, values in columns.items()}
    return {name: values.tolist() for name, values in columns.items()}


def confusion(
    y_true: np.ndarray, y_pred: np.ndarray | list[Any], classes: list[Any], max_classes: int = 0
) -> list[list[int]]:
    """The confusion matrix over `classes`; empty over `max_classes` (MAX_CLASSES) classes,
    where its classes² cells would outweigh everything else in the answer."""
    if max_classes and len(classes) > max_classes:
        return []
    return confusion_matrix(y_true, y_pred, labels=classes).tolist()
