"""The decision threshold of a binary model: applying it, and choosing it from held-out scores.

A binary model's threshold is a cut on the positive class's score column: a text is positive
when its score is at or above it. A model without a stored threshold decides by the largest
score, which is the same as a cut at 0.5 on probabilities or at 0.0 on a decision function.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict


def default_threshold(score_kind: str) -> float:
    """The cut that reproduces `predict` (largest score) for this kind of score."""
    return 0.5 if score_kind == "probability" else 0.0


def effective_threshold(stored: float | None, score_kind: str) -> float:
    return default_threshold(score_kind) if stored is None else float(stored)


def apply_threshold(
    scores: np.ndarray, classes: list[Any], positive: Any, threshold: float
) -> list[Any]:
    """Labels of a binary model: `positive` where its score column is >= `threshold`."""
    if len(classes) != 2:
        raise ValueError("a decision threshold applies to binary models only")
    column = classes.index(positive)
    negative = classes[1 - column]
    chosen = np.asarray(scores)[:, column] >= threshold
    return [positive if flag else negative for flag in chosen.tolist()]


def decide(
    pipeline: Any, texts: list[str], classes: list[Any], positive: Any, stored: float | None
) -> tuple[np.ndarray, list[Any], float | None]:
    """Scores, labels and the cut in use (binary models; None otherwise) for `texts`."""
    from backend.ml.pipeline import score_matrix

    score_kind, scores = score_matrix(pipeline, texts)
    if len(classes) != 2:
        return scores, np.asarray(pipeline.predict(texts)).tolist(), None
    cut = effective_threshold(stored, score_kind)
    return scores, apply_threshold(scores, classes, positive, cut), cut


def _pr(truth: np.ndarray, positive_scores: np.ndarray) -> tuple[np.ndarray, ...]:
    precision, recall, thresholds = precision_recall_curve(truth, positive_scores)
    # The last point (precision 1, recall 0) has no threshold; drop it so the three align.
    return precision[:-1], recall[:-1], thresholds


def f1_by_cut(truth: np.ndarray, positive_scores: np.ndarray) -> tuple[np.ndarray, ...]:
    """For every distinct score taken as the cut (positive = score >= cut): the cuts, the
    positive class's F1 and the macro F1 over both classes, in one pass over sorted scores."""
    truth = np.asarray(truth, dtype=bool)
    scores = np.asarray(positive_scores, dtype=float)
    order = np.argsort(-scores, kind="mergesort")
    scores, truth = scores[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # end of each tie group
    tp = np.cumsum(truth)[last].astype(float)
    fp = (last + 1) - tp
    positives, negatives = float(truth.sum()), float(len(truth) - truth.sum())
    fn, tn = positives - tp, negatives - fp
    f1_pos = 2 * tp / np.maximum(2 * tp + fp + fn, 1e-12)
    f1_neg = 2 * tn / np.maximum(2 * tn + fn + fp, 1e-12)
    return scores[last], f1_pos, (f1_pos + f1_neg) / 2


def best_threshold(
    truth: np.ndarray, positive_scores: np.ndarray, objective: str = "f1"
) -> tuple[float, float] | None:
    """The cut maximising the positive class's F1 (`f1`) or the macro F1 (`macro_f1`) on
    these held-out scores, and the F1 it reaches; None when only one class is present.

    The cut lies halfway to the next lower score, so texts scoring a little below the best
    cut on new data still count as positive, as they did on the held-out rows.
    """
    truth = np.asarray(truth, dtype=bool)
    if truth.all() or not truth.any():
        return None
    cuts, f1_pos, f1_macro = f1_by_cut(truth, positive_scores)
    values = f1_macro if objective == "macro_f1" else f1_pos
    best = int(np.argmax(values))
    cut = float(cuts[best])
    if best + 1 < len(cuts):
        cut = (cut + float(cuts[best + 1])) / 2
    return cut, float(values[best])


def best_f1_threshold(truth: np.ndarray, positive_scores: np.ndarray) -> float | None:
    """The cut that maximises the positive class's F1 on these scores (None if undefined)."""
    found = best_threshold(truth, positive_scores, "f1")
    return None if found is None else found[0]


def threshold_for_target(
    truth: np.ndarray,
    positive_scores: np.ndarray,
    *,
    precision: float | None = None,
    recall: float | None = None,
) -> float | None:
    """The cut reaching a target precision (the lowest such cut: most recall) or a target
    recall (the highest such cut: most precision); None when no cut reaches it."""
    truth = np.asarray(truth, dtype=bool)
    if truth.all() or not truth.any():
        return None
    p, r, thresholds = _pr(truth, np.asarray(positive_scores, dtype=float))
    if precision is not None:
        ok = np.flatnonzero(p >= precision)
        return float(thresholds[ok.min()]) if ok.size else None
    if recall is not None:
        ok = np.flatnonzero(r >= recall)
        return float(thresholds[ok.max()]) if ok.size else None
    raise ValueError("name a target precision or a target recall")


def out_of_fold_matrix(
    classifier: Any,
    features: Any,
    labels: np.ndarray,
    folds: int,
    random_state: int,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Scores of every training row (a column per class, in sorted order) from models that
    did not see it; a binary decision function d becomes the columns [-d, d]."""
    method = "predict_proba" if hasattr(classifier, "predict_proba") else "decision_function"
    scores = cross_val_predict(
        clone(classifier),
        features,
        labels,
        method=method,
        n_jobs=n_jobs,
        cv=StratifiedKFold(folds, shuffle=True, random_state=random_state),
    )
    scores = np.asarray(scores, dtype=float)
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def out_of_fold_scores(
    classifier: Any,
    features: Any,
    labels: np.ndarray,
    positive: Any,
    random_state: int,
    folds: int = 3,
) -> np.ndarray | None:
    """The positive class's score for every training row from a model that did not see it."""
    counts = np.unique(labels, return_counts=True)[1]
    folds = min(folds, int(counts.min()))
    if folds < 2:
        return None
    matrix = out_of_fold_matrix(classifier, features, labels, folds, random_state)
    classes = sorted(np.unique(labels).tolist())
    return matrix[:, classes.index(positive)]


def tune_on_training(
    classifier: Any, features: Any, labels: np.ndarray, positive: Any, random_state: int
) -> float | None:
    """The F1-best cut on out-of-fold scores of the training split: the test split stays
    untouched, so the fit's reported metrics remain honest."""
    scores = out_of_fold_scores(classifier, features, labels, positive, random_state)
    if scores is None:
        return None
    return best_f1_threshold(np.asarray(labels) == positive, scores)
