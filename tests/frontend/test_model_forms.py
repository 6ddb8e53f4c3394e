"""The Train form's rules match the backend's validation."""

from __future__ import annotations

import pytest

from frontend import model_forms as forms


def test_defaults_match_backend() -> None:
    assert forms.default_params("logreg") == {
        "C": 1.0,
        "max_iter": 1000,
        "class_weight": None,
        "solver": "lbfgs",
    }
    assert forms.default_params("sgd")["alpha"] == 0.0001
    assert forms.default_params("complement_nb") == {"alpha": 1.0, "norm": False}
    assert forms.VECTORIZER_DEFAULTS["ngram_range"] == [1, 1]


@pytest.mark.parametrize(
    ("model_type", "params", "problem"),
    [
        ("logreg", {"C": 0.0}, "C: must be > 0"),
        ("logreg", {"solver": "newton"}, "solver: must be one of"),
        ("logreg", {"max_iter": 0}, "max_iter: must be ≥ 1"),
        ("mnb", {"alpha": -1.0}, "alpha: must be ≥ 0"),
        ("sgd", {"alpha": 0.0}, "alpha: must be > 0"),
        ("svc", {"solver": "lbfgs"}, "solver: not a parameter of svc"),
        ("forest", {}, "model_type must be one of"),
    ],
)
def test_invalid_params_are_named(model_type: str, params: dict, problem: str) -> None:
    problems = forms.validate_params(model_type, params)
    assert any(problem in line for line in problems), problems


def test_valid_params_for_every_type() -> None:
    for model_type in forms.MODEL_PARAMS:
        assert forms.validate_params(model_type, forms.default_params(model_type)) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"ngram_range": [2, 1]}, "ngram_range"),
        ({"ngram_range": [1, 11]}, "ngram_range"),
        ({"min_df": 2.5}, "min_df"),
        ({"min_df": 0}, "min_df"),
        ({"max_df": 0.0}, "max_df"),
        ({"max_features": 0}, "max_features"),
        ({"type": "count", "sublinear_tf": True}, "sublinear_tf"),
    ],
)
def test_invalid_vectorizer(change: dict, problem: str) -> None:
    problems = forms.validate_vectorizer({**forms.VECTORIZER_DEFAULTS, **change})
    assert any(line.startswith(problem) for line in problems), problems


def test_min_df_count_or_share() -> None:
    assert forms.normalize_min_df(3.0) == 3 and isinstance(forms.normalize_min_df(3.0), int)
    assert forms.normalize_min_df(0.05) == 0.05


def test_build_fit_request() -> None:
    request = forms.build_fit_request(
        name=" m ",
        dataset_id="ds",
        model_type="mnb",
        params={"alpha": 0.5, "fit_prior": True},
        vectorizer={**forms.VECTORIZER_DEFAULTS, "type": "count"},
    )
    assert request["name"] == "m"
    assert "sublinear_tf" not in request["vectorizer"]
    assert (request["test_size"], request["random_state"]) == (0.2, 42)
    with pytest.raises(ValueError, match="name"):
        forms.build_fit_request(
            name="",
            dataset_id="ds",
            model_type="mnb",
            params={},
            vectorizer=forms.VECTORIZER_DEFAULTS,
        )
