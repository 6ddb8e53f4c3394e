"""Build scikit-learn pipelines (`vectorizer` → `classifier`) from validated parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from backend.ml.lemmatize import Lemmatizer
from backend.ml.nbsvm import NBSVMClassifier

CLASSIFIERS: dict[str, type[ClassifierMixin]] = {
    "logreg": LogisticRegression,
    "mnb": MultinomialNB,
    "complement_nb": ComplementNB,
    "svc": LinearSVC,
    "sgd": SGDClassifier,
    "nbsvm": NBSVMClassifier,
}
SEEDED = frozenset({"logreg", "svc", "sgd", "nbsvm"})


def _text_vectorizer(options: dict[str, Any], kind: str) -> CountVectorizer:
    options = dict(options)
    options["ngram_range"] = tuple(options["ngram_range"])
    if options.pop("lemmatize", False):
        options["preprocessor"] = Lemmatizer(lowercase=options["lowercase"])
    if kind == "tfidf":
        return TfidfVectorizer(**options)
    options.pop("sublinear_tf", None)
    return CountVectorizer(**options)


def build_vectorizer(vectorizer: dict[str, Any]) -> Any:
    """A TF-IDF or count vectorizer, or for `union` word and char_wb TF-IDF side by side."""
    char_keys = ("char_ngram_range", "char_min_df", "char_max_features")
    options = {k: v for k, v in vectorizer.items() if k != "type" and k not in char_keys}
    if vectorizer["type"] != "union":
        return _text_vectorizer(options, vectorizer["type"])
    char = {
        **options,
        "analyzer": "char_wb",
        "ngram_range": vectorizer["char_ngram_range"],
        "min_df": vectorizer["char_min_df"],
        "max_features": vectorizer["char_max_features"],
        "lemmatize": False,  # character n-grams of the surface form carry misspelt insults
    }
    return FeatureUnion(
        [("word", _text_vectorizer(options, "tfidf")), ("char", _text_vectorizer(char, "tfidf"))]
    )


def build_classifier(model_type: str, params: dict[str, Any], random_state: int) -> Any:
    cls = CLASSIFIERS[model_type]
    options = dict(params)
    calibrate = options.pop("calibrate", False)
    if model_type in SEEDED:
        options["random_state"] = random_state
    classifier = cls(**options)
    if calibrate:  # LinearSVC has no probabilities of its own; sigmoid calibration adds them
        return CalibratedClassifierCV(classifier, method="sigmoid", cv=3)
    return classifier


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
