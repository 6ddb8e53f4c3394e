"""Hyperparameter search: a grid over the classifier's parameters, scored by cross-validation.

The vectorizer is fitted once on the training split and the grid runs on its features, which
costs one vectorization instead of one per fold and candidate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, make_scorer, precision_score, recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from backend.ml.params import validate_params

MAX_CANDIDATES = 200


def validate_grid(
    model_type: str, base: dict[str, Any], grid: dict[str, list[Any]]
) -> dict[str, list[Any]]:
    """The grid with every value as the model type's schema reads it (`"1"` → `1.0`).

    ValueError when a candidate fails the schema. The fit must use the returned values:
    scikit-learn refuses the raw strings a client may send.
    """
    if not grid:
        raise ValueError("search.param_grid must name at least one parameter")
    total = 1
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"search.param_grid.{key} must be a non-empty list")
        total *= len(values)
    if total > MAX_CANDIDATES:
        raise ValueError(f"search.param_grid has {total} candidates; at most {MAX_CANDIDATES}")
    validated: dict[str, list[Any]] = {}
    for key, values in grid.items():
        validated[key] = []
        for value in values:
            try:
                candidate = validate_params(model_type, {**base, key: value})
            except ValueError as exc:
                raise ValueError(str(exc).replace("params.", "search.param_grid.")) from None
            validated[key].append(candidate[key])
    return validated


def scorer(scoring: str, classes: list[Any], positive: Any) -> Any:
    if scoring == "accuracy":
        return "accuracy"
    binary = len(classes) == 2
    if scoring == "roc_auc":
        return "roc_auc" if binary else "roc_auc_ovr"
    metric = {"f1": f1_score, "precision": precision_score, "recall": recall_score}[scoring]
    options: dict[str, Any] = (
        {"pos_label": positive, "average": "binary"} if binary else {"average": "macro"}
    )
    return make_scorer(metric, zero_division=0, **options)


@contextlib.contextmanager
def joblib_backend(name: str | None) -> Iterator[int]:
    """Run the search's jobs on Ray when asked (n_jobs=-1 there), else in this process."""
    if name != "ray":
        yield 1
        return
    import joblib
    from ray.util.joblib import register_ray

    register_ray()
    with joblib.parallel_backend("ray"):
        yield -1


def grid_search(
    classifier: Any,
    features: Any,
    labels: np.ndarray,
    search: dict[str, Any],
    classes: list[Any],
    positive: Any,
    random_state: int,
    backend: str | None,
) -> tuple[Any, dict[str, Any]]:
    """Fit the grid; return the refitted best classifier and a summary of the search."""
    counts = np.unique(labels, return_counts=True)[1]
    folds = max(2, min(int(search.get("cv", 3)), int(counts.min())))
    with joblib_backend(backend) as n_jobs:
        searcher = GridSearchCV(
            classifier,
            search["param_grid"],
            scoring=scorer(search.get("scoring", "f1"), classes, positive),
            cv=StratifiedKFold(folds, shuffle=True, random_state=random_state),
            n_jobs=n_jobs,
            refit=True,
            error_score="raise",
        )
        searcher.fit(features, labels)
    candidates = [
        {"params": params, "mean_score": float(mean), "std_score": float(std)}
        for params, mean, std in zip(
            searcher.cv_results_["params"],
            searcher.cv_results_["mean_test_score"],
            searcher.cv_results_["std_test_score"],
            strict=True,
        )
    ]
    summary = {
        "best_params": searcher.best_params_,
        "best_score": float(searcher.best_score_),
        "scoring": search.get("scoring", "f1"),
        "cv": folds,
        "candidates": candidates,
    }
    return searcher.best_estimator_, summary
