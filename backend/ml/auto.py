"""`model_type: "auto"`: choose kind, features and regularisation by cross-validated macro-F1.

The search runs inside the fit job on the training split only. Each feature set is fitted
once and each candidate is scored by out-of-fold predictions (3 stratified folds); a binary
candidate is scored at its best cut, because the winner's threshold is tuned the same way.
Candidates run in order of how well they usually do on short toxic texts, so a budget that
ends the search early still leaves a strong model. The winner is refitted on the whole
training split and its threshold is the macro-F1-best cut on its out-of-fold scores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from backend.ml.params import validate_params, validate_vectorizer
from backend.ml.pipeline import build_classifier, build_vectorizer
from backend.ml.search import joblib_backend
from backend.ml.threshold import best_threshold, out_of_fold_matrix

ProgressFn = Callable[[float, str], None]

# Feature sets: word 1-2-grams with char_wb n-grams (misspellings, obfuscated insults, emoji).
FEATURES: dict[str, dict[str, Any]] = {
    "union": {"type": "union"},
    "union_wide": {
        "type": "union",
        "ngram_range": [1, 3],
        "char_ngram_range": [1, 6],
        "char_max_features": 500_000,
    },
}


@dataclass(frozen=True)
class Candidate:
    features: str
    model_type: str
    params: dict[str, Any]


# Strongest-first: the first two or three already make a good model on their own. NB-SVM's
# ratios are smoothed with alpha 0.1 first: TF-IDF sums per feature are small, so alpha 1
# flattens the ratios of rare n-grams (cross-validated macro-F1 +0.01 on the wiki and Russian
# data at a third of the fit time; see README, "Model quality").
CANDIDATES: tuple[Candidate, ...] = (
    Candidate("union", "nbsvm", {"C": 4.0, "alpha": 0.1}),
    Candidate("union", "nbsvm", {"C": 16.0, "alpha": 0.1}),
    Candidate("union", "svc", {"C": 0.3}),
    Candidate("union", "logreg", {"C": 8.0, "solver": "liblinear"}),
    Candidate("union", "nbsvm", {"C": 1.0, "alpha": 0.1}),
    Candidate("union", "nbsvm", {"C": 4.0}),
    Candidate("union", "nbsvm", {"C": 16.0, "alpha": 0.3}),
    Candidate("union", "svc", {"C": 0.1}),
    Candidate("union", "logreg", {"C": 32.0, "solver": "liblinear"}),
    Candidate("union", "logreg", {"C": 2.0, "solver": "liblinear"}),
    Candidate("union", "complement_nb", {"alpha": 0.3}),
    Candidate("union_wide", "nbsvm", {"C": 4.0, "alpha": 0.1}),
    Candidate("union_wide", "svc", {"C": 0.3}),
    Candidate("union_wide", "logreg", {"C": 8.0, "solver": "liblinear"}),
)
FOLDS = 3
# Past this many training rows the search runs on a stratified sample (the refit uses all).
SEARCH_ROWS = 40_000
# Share of the budget the search may use; the rest is kept for the refit, test and save.
SEARCH_SHARE = 0.8


@dataclass
class AutoResult:
    vectorizer: Any
    classifier: Any
    vectorizer_params: dict[str, Any]
    model_type: str
    params: dict[str, Any]
    threshold: float | None
    chosen: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Scored:
    candidate: Candidate
    score: float
    seconds: float
    out_of_fold: np.ndarray


def _score(out_of_fold: np.ndarray, labels: np.ndarray, classes: list[Any], positive: Any) -> float:
    """Macro-F1 of out-of-fold scores: at the best cut (binary) or by the largest score."""
    if len(classes) == 2:
        found = best_threshold(
            labels == positive, out_of_fold[:, classes.index(positive)], "macro_f1"
        )
        return found[1] if found is not None else 0.0
    predicted = np.asarray(classes)[np.argmax(out_of_fold, axis=1)]
    return float(f1_score(labels, predicted, average="macro", zero_division=0))


def _search_sample(texts: list[str], labels: np.ndarray, seed: int) -> tuple[list[str], np.ndarray]:
    if len(texts) <= SEARCH_ROWS:
        return texts, labels
    sample, _, sample_labels, _ = train_test_split(
        texts, labels, train_size=SEARCH_ROWS, random_state=seed, stratify=labels
    )
    return list(sample), np.asarray(sample_labels)


def auto_fit(
    texts: list[str],
    labels: np.ndarray,
    positive: Any,
    random_state: int,
    budget_s: float,
    progress: ProgressFn,
    backend: str | None = None,
) -> AutoResult:
    """Search, refit the winner on every training row, and tune its threshold."""
    started = time.perf_counter()
    labels = np.asarray(labels)
    classes = sorted(np.unique(labels).tolist())
    counts = np.unique(labels, return_counts=True)[1]
    if counts.min() < FOLDS:
        raise ValueError(f"model_type auto needs at least {FOLDS} training rows of every class")
    search_texts, search_labels = _search_sample(texts, labels, random_state)
    features: dict[str, tuple[Any, Any, float]] = {}  # name → (vectorizer, matrix, seconds)
    scored: list[_Scored] = []
    skipped = 0

    def elapsed() -> float:
        return time.perf_counter() - started

    with joblib_backend(backend) as n_jobs:
        for number, candidate in enumerate(CANDIDATES):
            if scored and elapsed() + _estimate(candidate, scored, features) > (
                budget_s * SEARCH_SHARE
            ):
                skipped = len(CANDIDATES) - number
                break
            progress(
                0.05 + 0.65 * min(1.0, elapsed() / (budget_s * SEARCH_SHARE)),
                f"searching {number + 1}/{len(CANDIDATES)}",
            )
            if candidate.features not in features:
                mark = time.perf_counter()
                vectorizer = build_vectorizer(validate_vectorizer(FEATURES[candidate.features]))
                matrix = vectorizer.fit_transform(search_texts)
                features[candidate.features] = (vectorizer, matrix, time.perf_counter() - mark)
            mark = time.perf_counter()
            classifier = build_classifier(
                candidate.model_type,
                validate_params(candidate.model_type, candidate.params),
                random_state,
            )
            out_of_fold = out_of_fold_matrix(
                classifier,
                features[candidate.features][1],
                search_labels,
                FOLDS,
                random_state,
                n_jobs,
            )
            scored.append(
                _Scored(
                    candidate,
                    _score(out_of_fold, search_labels, classes, positive),
                    time.perf_counter() - mark,
                    out_of_fold,
                )
            )
    search_s = elapsed()
    best = max(scored, key=lambda s: s.score)

    progress(0.72, "refitting the best")
    vectorizer_params = validate_vectorizer(FEATURES[best.candidate.features])
    params = validate_params(best.candidate.model_type, best.candidate.params)
    vectorizer, matrix, _ = features[best.candidate.features]
    if search_texts is not texts:  # the search saw a sample: fit the features on every row
        vectorizer = build_vectorizer(vectorizer_params)
        matrix = vectorizer.fit_transform(texts)
    classifier = build_classifier(best.candidate.model_type, params, random_state)
    classifier.fit(matrix, labels)

    threshold = None
    if len(classes) == 2:
        found = best_threshold(
            search_labels == positive, best.out_of_fold[:, classes.index(positive)], "macro_f1"
        )
        threshold = found[0] if found is not None else None
    chosen = {
        "model_type": best.candidate.model_type,
        "params": params,
        "vectorizer": vectorizer_params,
        "cv_macro_f1": round(best.score, 4),
        "threshold": threshold,
        "threshold_objective": "macro_f1",
        "search_s": round(search_s, 1),
        "budget_s": budget_s,
        "candidates_tried": len(scored),
        "candidates_skipped_for_budget": skipped,
        "search_rows": len(search_texts),
        "candidates": [
            {
                "model_type": s.candidate.model_type,
                "params": s.candidate.params,
                "features": s.candidate.features,
                "cv_macro_f1": round(s.score, 4),
                "seconds": round(s.seconds, 1),
            }
            for s in scored
        ],
    }
    return AutoResult(
        vectorizer,
        classifier,
        vectorizer_params,
        best.candidate.model_type,
        params,
        threshold,
        chosen,
    )


def _estimate(
    candidate: Candidate, scored: list[_Scored], features: dict[str, tuple[Any, Any, float]]
) -> float:
    """Seconds the next candidate will likely take, plus the refit after the search.

    A candidate costs about what the last one of its kind cost (else the slowest so far);
    new features cost what the first feature set cost, times 1.5 for the wider n-grams.
    """
    same_kind = [s.seconds for s in scored if s.candidate.model_type == candidate.model_type]
    cost = same_kind[-1] if same_kind else max(s.seconds for s in scored)
    if candidate.features not in features:
        cost = cost * 1.5 + 1.5 * max(seconds for _, _, seconds in features.values())
    refit = max(s.seconds for s in scored) / 2  # one fit on all rows ≈ half of 3 folds
    return cost + refit
