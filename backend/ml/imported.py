"""What an uploaded scikit-learn pipeline is: a check that it classifies raw texts, and the
model type, parameters and vectorizer settings the registry records for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.ml.params import VectorizerParams
from backend.ml.pipeline import CLASSIFIERS


class NotATextClassifier(ValueError):
    """The pipeline is not a fitted classifier that takes raw texts."""


@dataclass(frozen=True)
class PipelineSummary:
    model_type: str
    params: dict[str, Any]
    vectorizer: dict[str, Any]
    classes: list[Any]


def check_text_classifier(pipeline: Any) -> None:
    """Raise NotATextClassifier unless `pipeline` is fitted and classifies a raw text."""
    if not hasattr(pipeline, "predict") or getattr(pipeline, "classes_", None) is None:
        raise NotATextClassifier(
            f"the file holds a {type(pipeline).__name__}, not a fitted classifier; "
            "upload a fitted scikit-learn Pipeline that takes raw texts"
        )
    try:
        pipeline.predict(["a short test text"])
    except Exception as exc:  # any failure here means the file cannot serve
        raise NotATextClassifier(
            f"the model cannot classify raw texts: {type(exc).__name__}: {exc}"
        ) from None


def summarize(pipeline: Any) -> PipelineSummary:
    """The registry's view of a checked pipeline (see `check_text_classifier`)."""
    steps = dict(getattr(pipeline, "steps", []))
    classifier = steps.get("classifier", pipeline)
    vectorizer = steps.get("vectorizer")
    model_type = next(
        (k for k, cls in CLASSIFIERS.items() if type(classifier) is cls),
        type(classifier).__name__,
    )
    vectorizer_params: dict[str, Any] = {}
    if vectorizer is not None:
        known = set(VectorizerParams.model_fields)
        vectorizer_params = {
            k: v for k, v in vectorizer.get_params().items() if k in known and k != "type"
        }
        vectorizer_params["type"] = {"TfidfVectorizer": "tfidf", "FeatureUnion": "union"}.get(
            type(vectorizer).__name__, "count"
        )
    classifier_params = (
        {
            k: v
            for k, v in classifier.get_params().items()
            if isinstance(v, (int, float, str, bool, type(None)))
        }
        if hasattr(classifier, "get_params")
        else {}
    )
    return PipelineSummary(
        model_type=model_type,
        params=classifier_params,
        vectorizer=_jsonable(vectorizer_params),
        classes=np.asarray(pipeline.classes_).tolist(),
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in values.items()
        if isinstance(v, (int, float, str, bool, tuple, list, type(None)))
    }
