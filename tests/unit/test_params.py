"""ml/params in process: defaults filled in, bounds and unknown keys refused with the key named."""

from __future__ import annotations

from typing import Any

import pytest

from backend.ml.params import PARAMS_BY_TYPE, validate_params, validate_vectorizer


def test_defaults_are_filled_in() -> None:
    assert validate_params("logreg", {}) == {
        "C": 1.0,
        "max_iter": 1000,
        "class_weight": None,
        "solver": "lbfgs",
    }
    for model_type in PARAMS_BY_TYPE:
        assert isinstance(validate_params(model_type, {}), dict), model_type


@pytest.mark.parametrize(
    ("model_type", "params", "needle"),
    [
        ("logreg", {"C": 0}, "params.C"),
        ("logreg", {"C": 1e7}, "params.C"),  # C ≤ 1e6
        ("logreg", {"max_iter": 100_001}, "params.max_iter"),  # ≤ 100,000
        ("sgd", {"alpha": 11}, "params.alpha"),  # SGD alpha ≤ 10
        ("svc", {"kernel": "rbf"}, "params.kernel"),  # unknown keys are refused
        ("logreg", {"solver": "newton"}, "params.solver"),
    ],
)
def test_bad_params_name_the_key(model_type: str, params: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle.replace(".", r"\.")):
        validate_params(model_type, params)


def test_vectorizer_defaults_and_char_keys() -> None:
    word = validate_vectorizer({})
    assert word["type"] == "tfidf" and "char_ngram_range" not in word
    assert isinstance(word["ngram_range"], list)
    union = validate_vectorizer({"type": "union", "char_ngram_range": [2, 4]})
    assert union["char_ngram_range"] == [2, 4]
    with pytest.raises(ValueError, match="union vectorizer only"):
        validate_vectorizer({"type": "tfidf", "char_min_df": 2})
    with pytest.raises(ValueError, match=r"vectorizer\.max_features"):
        validate_vectorizer({"max_features": -1})
