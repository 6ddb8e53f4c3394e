"""LinearScorer gives exactly the pipeline's own labels and scores for every model kind this
service trains, and refuses (None) whatever it does not know or does not match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from backend.ml.linear_scorer import linear_scorer, probe_documents
from backend.ml.pipeline import build_pipeline, predict_and_score, score_matrix
from backend.services.inference import LoadedModel

SAMPLE = Path(__file__).resolve().parents[2] / "backend" / "sample_data"

WORD = {
    "type": "tfidf",
    "analyzer": "word",
    "ngram_range": [1, 2],
    "min_df": 2,
    "max_df": 1.0,
    "max_features": None,
    "sublinear_tf": True,
    "lowercase": True,
    "lemmatize": False,
}
VECTORIZERS = {
    "tfidf": WORD,
    "count": {**WORD, "type": "count"},
    "char_wb": {**WORD, "analyzer": "char_wb", "ngram_range": [2, 4], "sublinear_tf": False},
    "union": {
        **WORD,
        "type": "union",
        "char_ngram_range": [2, 4],
        "char_min_df": 2,
        "char_max_features": 20000,
    },
}
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("logreg", {"max_iter": 1000}),
    ("mnb", {}),
    ("complement_nb", {}),
    ("svc", {}),
    ("svc", {"calibrate": True}),
    ("sgd", {}),
    ("sgd", {"loss": "log_loss"}),
    ("nbsvm", {}),
]


@pytest.fixture(scope="module")
def data() -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    csv = SAMPLE / "toxic_en.csv"
    frame = pd.read_csv(csv).dropna().sample(frac=1.0, random_state=0)
    texts = frame.iloc[:, 0].astype(str).tolist()
    labels = frame.iloc[:, 1].to_numpy()
    three = np.where(np.arange(len(labels)) % 3 == 0, "other", labels.astype(str))
    return texts[:800], labels[:800], three[:800], texts[800:1000]


@pytest.mark.parametrize("vectorizer", sorted(VECTORIZERS))
@pytest.mark.parametrize(("kind", "params"), KINDS, ids=[f"{k}{p}" for k, p in KINDS])
@pytest.mark.parametrize("classes", ["binary", "three"])
def test_the_same_answers_as_the_pipeline(
    data: Any, kind: str, params: dict[str, Any], vectorizer: str, classes: str
) -> None:
    texts, binary, three, unseen = data
    labels = binary if classes == "binary" else three
    pipeline = build_pipeline(kind, params, VECTORIZERS[vectorizer]).fit(texts, labels)
    scorer = linear_scorer(pipeline)
    if kind == "svc" and params.get("calibrate") and classes == "three":
        assert scorer is None  # calibrated multiclass: served through scikit-learn
        return
    assert scorer is not None
    documents = [*unseen, "", "ALL CAPS!!", "ünïcödé  spaces\tand\nlines"]
    expected_labels, expected_scores = predict_and_score(pipeline, documents)
    labels_out, scores_out = scorer.predict_and_score(documents)
    assert labels_out.tolist() == expected_labels.tolist()
    np.testing.assert_allclose(scores_out, expected_scores, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        scorer.scores(documents), score_matrix(pipeline, documents)[1], rtol=1e-9, atol=1e-12
    )


class SkewedLogisticRegression(LogisticRegression):
    """Looks linear, but its probabilities are not the linear model's."""

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(super().predict_proba(X)) ** 2


def test_a_model_that_answers_otherwise_is_served_through_sklearn(data: Any) -> None:
    texts, binary, _, _ = data
    pipeline = build_pipeline("logreg", {"max_iter": 1000}, WORD)
    pipeline.steps[-1] = ("classifier", SkewedLogisticRegression(max_iter=1000))
    pipeline.fit(texts, binary)
    assert linear_scorer(pipeline) is None
    assert LoadedModel("m", pipeline, list(pipeline.classes_), None).scorer is None


def test_unknown_shapes_are_left_to_sklearn(data: Any) -> None:
    texts, binary, _, _ = data
    fitted = build_pipeline("logreg", {"max_iter": 1000}, WORD).fit(texts, binary)
    three_steps = Pipeline([*fitted.steps[:1], ("again", "passthrough"), fitted.steps[-1]])
    assert linear_scorer(three_steps) is None
    assert linear_scorer(fitted.steps[-1][1]) is None  # not a pipeline
    huber = build_pipeline("sgd", {"loss": "modified_huber"}, WORD).fit(texts, binary)
    assert linear_scorer(huber) is None


def test_a_loaded_model_serves_through_the_scorer_with_its_threshold(data: Any) -> None:
    texts, binary, _, unseen = data
    pipeline = build_pipeline("logreg", {"max_iter": 1000}, WORD).fit(texts, binary)
    model = LoadedModel("m", pipeline, list(pipeline.classes_), None)
    assert model.scorer is not None
    labels, scores = model._compute("predict", unseen)
    assert labels.tolist() == pipeline.predict(unseen).tolist()
    model.cut = (0.9, 1)  # a stored threshold moves labels, not scores
    cut_labels, cut_scores = model._compute("predict", unseen)
    np.testing.assert_array_equal(cut_scores, scores)
    expected = np.where(scores[:, 1] >= 0.9, pipeline.classes_[1], pipeline.classes_[0])
    assert cut_labels.tolist() == expected.tolist()


def test_probe_documents_use_the_vocabulary(data: Any) -> None:
    texts, binary, _, _ = data
    pipeline = build_pipeline("mnb", {}, VECTORIZERS["union"]).fit(texts, binary)
    documents = probe_documents(pipeline)
    features = pipeline[0].transform(documents)
    assert len(documents) >= 40
    assert (np.diff(features.indptr)[4:] > 0).all()  # every vocabulary document has features
