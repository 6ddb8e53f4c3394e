"""A binary model's held-out scores in compact form, and its operating points from them.

At fit time the positive class's scores on the held-out split are reduced to a curve: the
distinct scores (rounded to `DIGITS` decimals) from high to low with how many positive and
negative rows scored each. That is all a threshold needs: at a cut t, the rows scoring >= t
are flagged, so precision, recall, F1, accuracy and flagged texts per 1,000 follow from sums.
Above `MAX_POINTS` distinct scores, neighbours merge into groups of about equal rows; each
group keeps its lowest score, so figures are exact at every stored score and the stored
record stays a few tens of kilobytes however large the split.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.ml.metrics import compute_metrics
from backend.ml.threshold import decide

DIGITS = 6
MAX_POINTS = 2000


def holdout_curve(
    truth: np.ndarray, scores: np.ndarray, classes: list[Any], positive: Any, score_kind: str
) -> dict[str, Any] | None:
    """The compact curve of a binary model's held-out scores (None for other models)."""
    if len(classes) != 2 or positive not in classes or len(truth) == 0:
        return None
    column = np.round(np.asarray(scores, dtype=float)[:, classes.index(positive)], DIGITS)
    is_positive = np.asarray(truth) == positive
    distinct, inverse = np.unique(-column, return_inverse=True)  # high → low
    positives = np.bincount(inverse, weights=is_positive, minlength=len(distinct))
    negatives = np.bincount(inverse, weights=~is_positive, minlength=len(distinct))
    points = -distinct
    if len(points) > MAX_POINTS:
        rows = np.cumsum(positives + negatives)
        group = np.minimum((rows - 1) * MAX_POINTS // rows[-1], MAX_POINTS - 1).astype(int)
        ends = np.flatnonzero(np.diff(group, append=group[-1] + 1))
        starts = np.concatenate([[0], ends[:-1] + 1])
        points = points[ends]
        positives = np.add.reduceat(positives, starts)
        negatives = np.add.reduceat(negatives, starts)
    return {
        "score_kind": score_kind,
        "scores": points.tolist(),
        "positives": positives.astype(int).tolist(),
        "negatives": negatives.astype(int).tolist(),
    }


def evaluate_with_curve(
    pipeline: Any,
    texts: list[str],
    truth: np.ndarray,
    classes: list[Any],
    positive: Any,
    threshold: float | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The fit's held-out metrics (as `training.evaluate_split`) and the curve, scored once."""
    scores, predictions, cut = decide(pipeline, texts, classes, positive, threshold)
    metrics = compute_metrics(truth, predictions, scores, classes, positive, threshold=cut)
    score_kind = "probability" if hasattr(pipeline, "predict_proba") else "decision_function"
    return metrics, holdout_curve(truth, scores, classes, positive, score_kind)


def _counts_at(curve: dict[str, Any], threshold: float) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) when rows scoring >= `threshold` are flagged."""
    scores = np.asarray(curve["scores"], dtype=float)
    flagged = scores >= threshold
    positives = np.asarray(curve["positives"], dtype=int)
    negatives = np.asarray(curve["negatives"], dtype=int)
    tp, fp = int(positives[flagged].sum()), int(negatives[flagged].sum())
    return tp, fp, int(positives.sum()) - tp, int(negatives.sum()) - fp


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def metrics_at(
    curve: dict[str, Any], threshold: float, classes: list[Any], positive: Any
) -> dict[str, Any]:
    """The threshold-dependent held-out figures at `threshold` (the rest do not move)."""
    tp, fp, fn, tn = _counts_at(curve, threshold)
    total = tp + fp + fn + tn
    negative = classes[1 - classes.index(positive)]
    per_class = {}
    for label, hits, wrong_in, wrong_out, support in (
        (positive, tp, fp, fn, tp + fn),
        (negative, tn, fn, fp, tn + fp),
    ):
        precision, recall = _ratio(hits, hits + wrong_in), _ratio(hits, hits + wrong_out)
        per_class[str(label)] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": support,
        }
    figures = per_class[str(positive)]
    return {
        "threshold": float(threshold),
        "accuracy": _ratio(tp + tn, total),
        "precision": figures["precision"],
        "recall": figures["recall"],
        "f1": figures["f1"],
        "macro_f1": (per_class[str(positive)]["f1"] + per_class[str(negative)]["f1"]) / 2,
        "per_class": {str(label): per_class[str(label)] for label in classes},
        "flagged_per_1000": 1000 * _ratio(tp + fp, total),
    }


def points(curve: dict[str, Any]) -> dict[str, list[float]]:
    """Precision, recall and flagged texts per 1,000 at every stored cut, high to low."""
    positives = np.cumsum(curve["positives"])
    negatives = np.cumsum(curve["negatives"])
    total = positives[-1] + negatives[-1] if len(positives) else 0
    flagged = positives + negatives
    return {
        "thresholds": list(curve["scores"]),
        "precision": (positives / np.maximum(flagged, 1)).tolist(),
        "recall": (positives / max(int(positives[-1]) if len(positives) else 0, 1)).tolist(),
        "flagged_per_1000": (1000 * flagged / max(int(total), 1)).tolist(),
    }


def threshold_for_target(
    curve: dict[str, Any], *, precision: float | None = None, recall: float | None = None
) -> float | None:
    """The stored cut reaching a target precision (the lowest such cut: most recall) or a
    target recall (the highest such cut: most precision); None when no cut reaches it."""
    curve_points = points(curve)
    cuts = curve_points["thresholds"]
    if precision is not None:
        ok = [i for i, value in enumerate(curve_points["precision"]) if value >= precision]
        return float(cuts[max(ok)]) if ok else None
    if recall is not None:
        ok = [i for i, value in enumerate(curve_points["recall"]) if value >= recall]
        return float(cuts[min(ok)]) if ok else None
    raise ValueError("name a target precision or a target recall")
