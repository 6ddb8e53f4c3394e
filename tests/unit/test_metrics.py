"""ml/metrics in process: the figures fit and evaluate report, on small hand-checked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backend.ml.metrics import compute_metrics, confusion, per_class, pr_points, roc_points

CLASSES = [0, 1]
TRUTH = np.array([0, 0, 0, 1, 1, 1])
PREDICTED = np.array([0, 0, 1, 1, 1, 0])
# Scores of class 1 in the second column; one positive ranks below one negative.
SCORES = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.1, 0.9], [0.65, 0.35]])


def test_binary_figures() -> None:
    metrics = compute_metrics(TRUTH, PREDICTED, SCORES, CLASSES, positive=1, threshold=0.5)
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert (metrics["precision"], metrics["recall"], metrics["f1"]) == pytest.approx((2 / 3,) * 3)
    assert metrics["roc_auc"] == pytest.approx(8 / 9)  # 8 of the 9 positive/negative pairs
    assert metrics["macro_f1"] == pytest.approx(2 / 3)
    assert metrics["average_precision"] == pytest.approx((1 + 1 + 3 / 4) / 3)
    assert (metrics["positive_label"], metrics["threshold"], metrics["n_test"]) == (1, 0.5, 6)
    assert metrics["per_class"]["1"] == {
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(2 / 3),
        "support": 3,
    }


def test_the_positive_class_decides_binary_figures() -> None:
    as_zero = compute_metrics(TRUTH, PREDICTED, SCORES, CLASSES, positive=0)
    # Same counts mirrored, so precision/recall of class 0 equal those of class 1 here.
    assert as_zero["recall"] == pytest.approx(2 / 3)
    assert as_zero["roc_auc"] == pytest.approx(8 / 9)
    assert "threshold" not in as_zero


def test_one_class_present_leaves_curve_figures_empty() -> None:
    truth = np.array([1, 1, 1])
    metrics = compute_metrics(truth, truth, SCORES[:3], CLASSES, positive=1)
    assert metrics["roc_auc"] is None and metrics["average_precision"] is None
    assert pr_points(truth, SCORES[:3], CLASSES, 1) == {
        "precision": [],
        "recall": [],
        "thresholds": [],
    }
    assert roc_points(truth, SCORES[:3], CLASSES, 1) == {"fpr": [], "tpr": [], "thresholds": []}


def test_more_classes_use_macro_averages() -> None:
    classes = ["a", "b", "c"]
    truth = np.array(["a", "b", "c", "a"])
    predicted = np.array(["a", "b", "b", "a"])
    scores = np.eye(3)[[0, 1, 1, 0]]
    metrics = compute_metrics(truth, predicted, scores, classes, positive="c")
    assert metrics["recall"] == pytest.approx((1 + 1 + 0) / 3)
    assert "average_precision" not in metrics and "positive_label" not in metrics
    assert per_class(truth, predicted, classes)["c"]["support"] == 1


def test_curves_are_json_ready() -> None:
    roc = roc_points(TRUTH, SCORES, CLASSES, 1)
    assert roc["fpr"][0] == 0 and roc["tpr"][-1] == 1
    assert all(math.isfinite(t) for t in roc["thresholds"])  # roc_curve's first is +inf
    pr = pr_points(TRUTH, SCORES, CLASSES, 1)
    assert len(pr["precision"]) == len(pr["recall"]) == len(pr["thresholds"])
    assert sorted(pr["thresholds"]) == pr["thresholds"]


def test_confusion_matrix_and_its_cap() -> None:
    assert confusion(TRUTH, PREDICTED, CLASSES) == [[2, 1], [1, 2]]
    assert confusion(TRUTH, PREDICTED, CLASSES, max_classes=1) == []
