"""Build scikit-learn pipelines (`vectorizer` → `classifier`) from validated parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

CLASSIFIERS: dict[str, type[ClassifierMixin]] = {
    "logreg": LogisticRegression,
    "mnb": MultinomialNB,
    "complement_nb": ComplementNB,
    "svc": LinearSVC,
    "sgd": SGDClassifier,
}


def build_vectorizer(vectorizer: dict[str, Any]) -> CountVectorizer:
    options = {k: v for k, v in vectorizer.items() if k != "type"}
    options["ngram_range"] = tuple(options["ngram_range"])
    if vectorizer["type"] == "tfidf":
        return TfidfVectorizer(**options)
    options.pop("sublinear_tf", None)
    return CountVectorizer(**options)


def build_classifier(model_type: str, params: dict[str, Any], random_state: int) -> Any:
    cls = CLASSIFIERS[model_type]
    options = dict(params)
    if model_type in {"logreg", "svc", "sgd"}:
        options["random_state"] = random_state
    return cls(**options)


def build_pipeline(
    model_type: str, params: dict[str, Any], vectorizer: dict[str, Any], random_state: int = 42
) -> Pipeline:
    return Pipeline(
        [
            ("vectorizer", build_vectorizer(vectorizer)),
            ("classifier", build_classifier(model_type, params, random_state)),
        ]
    )


def score_matrix(pipeline: Pipeline, texts: list[str]) -> tuple[str, np.ndarray]:
    """Scores per class: probabilities when the classifier has them, else decision_function.

    A binary decision function `d` becomes the two columns `[-d, d]`.
    """
    if hasattr(pipeline, "predict_proba"):
        return "probability", np.asarray(pipeline.predict_proba(texts), dtype=float)
    decision = np.asarray(pipeline.decision_function(texts), dtype=float)
    if decision.ndim == 1:
        decision = np.column_stack([-decision, decision])
    return "decision_function", decision
