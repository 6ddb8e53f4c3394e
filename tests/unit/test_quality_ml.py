"""The quality issue's ML pieces in process: NB-SVM, lemmatizer, union features, thresholds,
and that every new type round-trips through the skops allow-list (no pickled functions)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import skops.io as sio
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from backend.ml.artifacts import ArtifactError, dumps_compact, loads_trusted, untrusted_types
from backend.ml.lemmatize import Lemmatizer
from backend.ml.nbsvm import NBSVMClassifier
from backend.ml.params import validate_params, validate_vectorizer
from backend.ml.pipeline import build_pipeline
from backend.ml.threshold import apply_threshold, best_threshold, threshold_for_target

TEXTS = [
    "you are an idiot",
    "what a nice day",
    "idiots everywhere",
    "have a nice day",
    "Дебилы кругом",
    "хороший день",
    "stupid moron",
    "thank you kindly",
] * 4
LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 4)


def test_nbsvm_is_logistic_regression_on_log_count_ratio_scaled_features() -> None:
    rng = np.random.default_rng(0)
    features = sp.csr_matrix(rng.poisson(0.3, size=(200, 40)).astype(float))
    labels = (features[:, :5].sum(axis=1).A.ravel() + rng.normal(0, 0.5, 200) > 1.5).astype(int)
    model = NBSVMClassifier(C=2.0, alpha=1.0).fit(features, labels)

    p = 1.0 + features[labels == 1].sum(axis=0).A.ravel()
    q = 1.0 + features[labels == 0].sum(axis=0).A.ravel()
    ratio = np.log(p / p.sum()) - np.log(q / q.sum())
    reference = LogisticRegression(C=2.0, solver="liblinear").fit(
        features.multiply(ratio).tocsr(), labels
    )
    assert np.allclose(model.r_[0], ratio)
    assert np.allclose(
        model.decision_function(features),
        reference.decision_function(features.multiply(ratio).tocsr()),
    )
    assert np.allclose(
        model.predict_proba(features), reference.predict_proba(features.multiply(ratio).tocsr())
    )
    assert clone(model).get_params() == model.get_params()


def test_nbsvm_handles_more_classes_and_refuses_negative_features() -> None:
    rng = np.random.default_rng(1)
    features = rng.poisson(0.5, size=(90, 12)).astype(float)
    labels = np.repeat(["a", "b", "c"], 30)
    features[labels == "b", 3] += 3
    features[labels == "c", 7] += 3
    model = NBSVMClassifier().fit(features, labels)
    assert model.coef_.shape == (3, 12)
    assert np.allclose(model.predict_proba(features).sum(axis=1), 1.0)
    assert (model.predict(features) == labels).mean() > 0.8
    with pytest.raises(ValueError, match="non-negative"):
        NBSVMClassifier().fit(features - 5, labels)


def test_lemmatizer_english_and_russian_offline() -> None:
    lemmatize = Lemmatizer()
    assert lemmatize("The Idiots were RUNNING") == "the idiot be run"
    assert lemmatize("Дебилы кругом") == "дебил кругом"
    assert Lemmatizer(lowercase=False)("Idiots") == "idiot"  # lemmas are dictionary forms
    assert lemmatize("42 :) ...") == "42 :) ..."
    assert Lemmatizer() == Lemmatizer() and Lemmatizer() != Lemmatizer(lowercase=False)


@pytest.mark.parametrize(
    ("model_type", "params", "vectorizer"),
    [
        ("nbsvm", {}, {"type": "union", "lemmatize": True}),
        ("svc", {"calibrate": True}, {"type": "union"}),
        ("logreg", {}, {"lemmatize": True, "analyzer": "char_wb", "ngram_range": [2, 4]}),
    ],
)
def test_new_pipelines_round_trip_through_the_allow_list(
    model_type: str, params: dict, vectorizer: dict
) -> None:
    pipeline = build_pipeline(
        model_type, validate_params(model_type, params), validate_vectorizer(vectorizer)
    ).fit(TEXTS, LABELS)
    for payload in (dumps_compact(pipeline), sio.dumps(pipeline)):
        assert untrusted_types(payload) == []
        loaded = loads_trusted(payload)
        assert np.allclose(loaded.predict_proba(TEXTS), pipeline.predict_proba(TEXTS))
    # Compact storage keeps the union's inner vocabularies as arrays, and restores them.
    if vectorizer.get("type") == "union":
        word = loads_trusted(dumps_compact(pipeline)).steps[0][1].transformer_list[0][1]
        assert isinstance(word.vocabulary_, dict)


def test_a_foreign_preprocessor_function_is_still_refused() -> None:
    pipeline = build_pipeline("logreg", validate_params("logreg", {}), validate_vectorizer({})).fit(
        TEXTS, LABELS
    )
    pipeline.steps[0][1].preprocessor = str.lower
    with pytest.raises(ArtifactError, match="untrusted"):
        loads_trusted(sio.dumps(pipeline))


def test_union_defaults_and_char_options() -> None:
    union = validate_vectorizer({"type": "union"})
    assert union["ngram_range"] == [1, 2] and union["char_ngram_range"] == [2, 5]
    assert union["sublinear_tf"] is True and union["min_df"] == 2
    assert "char_ngram_range" not in validate_vectorizer({})
    assert validate_vectorizer({"type": "union", "ngram_range": [1, 1]})["ngram_range"] == [1, 1]


def test_best_threshold_maximises_f1_and_macro_f1() -> None:
    rng = np.random.default_rng(2)
    truth = rng.random(400) < 0.25
    scores = truth * 0.4 + rng.random(400)
    for objective, average in (("f1", "binary"), ("macro_f1", "macro")):
        found = best_threshold(truth, scores, objective)
        assert found is not None
        cut, value = found
        assert f1_score(truth, scores >= cut, average=average) == pytest.approx(value)
        grid = np.linspace(scores.min(), scores.max(), 300)
        assert value >= max(f1_score(truth, scores >= g, average=average) for g in grid) - 1e-9
    assert best_threshold(np.ones(5, bool), np.arange(5.0)) is None


def test_threshold_targets_and_labels() -> None:
    truth = np.array([0, 0, 1, 0, 1, 1, 1, 0, 1, 1], bool)
    scores = np.linspace(0.05, 0.95, 10)
    precise = threshold_for_target(truth, scores, precision=1.0)
    assert precise is not None and truth[scores >= precise].all()
    recall = threshold_for_target(truth, scores, recall=1.0)
    assert recall is not None and truth[scores >= recall].sum() == truth.sum()
    assert threshold_for_target(truth, scores, precision=1.01) is None
    matrix = np.column_stack([1 - scores, scores])
    assert apply_threshold(matrix, [0, 1], 1, 0.5) == [0] * 5 + [1] * 5
    with pytest.raises(ValueError):
        apply_threshold(np.ones((2, 3)), [0, 1, 2], 1, 0.5)


def test_every_auto_candidate_is_a_valid_fit_request() -> None:
    """auto's fixed search space passes the same schemas a client's fit goes through, so the
    recorded choice can be fitted again as an ordinary request; NB-SVM with the sharper
    naive-Bayes ratios (alpha 0.1) is tried first, as it led on every proxy we measured."""
    from backend.ml.auto import CANDIDATES, FEATURES

    assert len({(c.features, c.model_type, str(c.params)) for c in CANDIDATES}) == len(CANDIDATES)
    for candidate in CANDIDATES:
        params = validate_params(candidate.model_type, candidate.params)
        vectorizer = validate_vectorizer(FEATURES[candidate.features])
        assert vectorizer["type"] == "union"
        build_pipeline(candidate.model_type, params, vectorizer)
    first = CANDIDATES[0]
    assert (first.model_type, first.params.get("alpha")) == ("nbsvm", 0.1)


def test_out_of_fold_scores_of_either_class_and_either_score_kind() -> None:
    """One out-of-fold helper serves the threshold tuning and auto's search: a decision
    function's single column is the second class's score, negated for the first."""
    from sklearn.svm import LinearSVC

    from backend.ml.threshold import out_of_fold_matrix, out_of_fold_scores

    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 4))
    labels = np.where(features[:, 0] + 0.3 * rng.normal(size=60) > 0, "toxic", "ok")
    svc = LinearSVC()
    matrix = out_of_fold_matrix(svc, features, labels, folds=3, random_state=0)
    assert matrix.shape == (60, 2) and np.allclose(matrix[:, 0], -matrix[:, 1])
    toxic = out_of_fold_scores(svc, features, labels, "toxic", random_state=0)
    ok = out_of_fold_scores(svc, features, labels, "ok", random_state=0)
    assert toxic is not None and ok is not None and np.allclose(toxic, -ok)
    assert np.corrcoef(toxic, features[:, 0])[0, 1] > 0.5  # the toxic score follows the signal
    probabilities = out_of_fold_matrix(LogisticRegression(), features, labels, 3, 0)
    assert np.allclose(probabilities.sum(axis=1), 1)
    # A class with a single row leaves nothing to cross-validate.
    assert out_of_fold_scores(svc, features, np.r_[labels[:-1], ["rare"]], "rare", 0) is None
