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


def predict_and_score(pipeline: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Labels exactly as `pipeline.predict` gives them, and the `score_matrix` scores, with
    the texts vectorized once (the vectorizer is most of a prediction's time)."""
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 2:
        return np.asarray(pipeline.predict(texts)), score_matrix(pipeline, texts)[1]
    features = pipeline[:-1].transform(texts)
    classifier = pipeline[-1]
    labels = np.asarray(classifier.predict(features))
    return labels, score_matrix(classifier, features)[1]
