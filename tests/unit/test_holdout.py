"""The compact held-out curve gives the same figures as scikit-learn on the raw scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from backend.ml import holdout


def raw(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    positive = np.clip(0.3 * truth + rng.random(n) * 0.7, 0, 1)
    return truth, np.column_stack([1 - positive, positive])


@pytest.mark.parametrize("n", [50, 5000])  # below and above MAX_POINTS distinct scores
def test_figures_match_scikit_learn_at_stored_cuts(n: int) -> None:
    truth, scores = raw(n)
    curve = holdout.holdout_curve(truth, scores, [0, 1], 1, "probability")
    assert curve is not None and len(curve["scores"]) <= holdout.MAX_POINTS
    assert sum(curve["positives"]) + sum(curve["negatives"]) == n
    rounded = np.round(scores[:, 1], holdout.DIGITS)
    for cut in curve["scores"][:: max(1, len(curve["scores"]) // 25)]:
        predicted = (rounded >= cut).astype(int)
        figures = holdout.metrics_at(curve, cut, [0, 1], 1)
        assert figures["precision"] == pytest.approx(
            precision_score(truth, predicted, zero_division=0)
        )
        assert figures["recall"] == pytest.approx(recall_score(truth, predicted))
        assert figures["f1"] == pytest.approx(f1_score(truth, predicted))
        assert figures["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
        assert figures["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
        assert figures["per_class"]["0"]["support"] == int((truth == 0).sum())
        assert figures["flagged_per_1000"] == pytest.approx(1000 * predicted.mean())


def test_targets_pick_the_best_cut_that_reaches_them() -> None:
    truth, scores = raw(3000, seed=1)
    curve = holdout.holdout_curve(truth, scores, [0, 1], 1, "probability")
    assert curve is not None
    cut = holdout.threshold_for_target(curve, precision=0.8)
    assert cut is not None
    at = holdout.metrics_at(curve, cut, [0, 1], 1)
    assert at["precision"] >= 0.8
    lower = [s for s in curve["scores"] if s < cut]
    assert holdout.metrics_at(curve, max(lower), [0, 1], 1)["precision"] < 0.8  # most recall
    cut = holdout.threshold_for_target(curve, recall=0.9)
    assert cut is not None and holdout.metrics_at(curve, cut, [0, 1], 1)["recall"] >= 0.9
    higher = [s for s in curve["scores"] if s > cut]
    assert holdout.metrics_at(curve, min(higher), [0, 1], 1)["recall"] < 0.9  # most precision
    assert holdout.threshold_for_target(curve, precision=1.01) is None


def test_string_labels_and_a_first_positive_class() -> None:
    truth = np.array(["toxic", "ok", "toxic", "ok"])
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])  # columns: ok, toxic?
    curve = holdout.holdout_curve(truth, scores, ["ok", "toxic"], "ok", "probability")
    assert curve is not None
    figures = holdout.metrics_at(curve, 0.5, ["ok", "toxic"], "ok")
    assert set(figures["per_class"]) == {"ok", "toxic"}
    assert holdout.holdout_curve(truth, scores, ["a", "b", "c"], "a", "probability") is None
