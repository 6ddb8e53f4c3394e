"""The Train form's fields come from the backend's own schemas: every model type and
vectorizer option is offered with the backend's defaults, and the form refuses exactly the
values the backend refuses (bounds included) — checked against the real schemas, not literals.
"""

from __future__ import annotations

from typing import Any

import pytest

from backend.ml.params import PARAMS_BY_TYPE, validate_params, validate_vectorizer
from backend.services.model_types import model_types_response
from frontend import param_schema as schema

CATALOG = model_types_response().model_dump()
BY_NAME = {entry["name"]: entry for entry in CATALOG["model_types"]}


def fields_of(model_type: str) -> list[schema.FormField]:
    return schema.form_fields(BY_NAME[model_type]["params_schema"])


def backend_accepts(model_type: str, params: dict[str, Any]) -> bool:
    try:
        validate_params(model_type, params)
    except ValueError:
        return False
    return True


def test_every_registered_model_type_is_offered() -> None:
    assert list(BY_NAME) == list(PARAMS_BY_TYPE)
    for entry in CATALOG["model_types"]:
        assert entry["title"], entry["name"]


@pytest.mark.parametrize("model_type", list(PARAMS_BY_TYPE))
def test_form_defaults_are_the_backend_defaults(model_type: str) -> None:
    fields = fields_of(model_type)
    defaults = {f.name: f.default for f in fields}
    assert schema.problems(fields, defaults) == []
    backend = validate_params(model_type, {})
    assert {k: backend[k] for k in defaults} == defaults


@pytest.mark.parametrize(
    ("model_type", "params", "problem"),
    [
        ("logreg", {"C": 0.0}, "C: must be > 0"),
        ("logreg", {"C": 2e6}, "C: must be ≤ 1e+06"),
        ("logreg", {"max_iter": 200_000}, "max_iter: must be ≤ 100000"),
        ("logreg", {"max_iter": 0}, "max_iter: must be ≥ 1"),
        ("logreg", {"max_iter": 2.5}, "max_iter: must be a whole number"),
        ("logreg", {"solver": "newton"}, "solver: must be one of"),
        ("sgd", {"alpha": 11.0}, "alpha: must be ≤ 10"),
        ("mnb", {"alpha": -1.0}, "alpha: must be ≥ 0"),
    ],
)
def test_form_refuses_what_the_backend_refuses(
    model_type: str, params: dict[str, Any], problem: str
) -> None:
    found = schema.problems(fields_of(model_type), params)
    assert any(problem in line for line in found), found
    assert not backend_accepts(model_type, params)


def test_help_texts_travel_with_the_schema() -> None:
    c_field = next(f for f in fields_of("logreg") if f.name == "C")
    assert "regularisation" in c_field.help
    assert c_field.minimum == 0 and c_field.maximum == 1e6


def test_read_only_parameters_are_not_inputs() -> None:
    assert "chosen" not in {f.name for f in fields_of("auto")}


VECTORIZER_FIELDS = schema.form_fields(CATALOG["vectorizer_schema"], skip=("type",))
VECTORIZER = {f.name: f for f in VECTORIZER_FIELDS}


@pytest.mark.parametrize(
    ("name", "typed", "sent"),
    [
        ("min_df", 2.0, 2),  # a count
        ("min_df", 0.5, 0.5),  # a share
        ("max_df", 1.0, 1.0),  # the share 1.0, not the count 1
        ("max_features", None, None),
        ("ngram_range", (1, 3), [1, 3]),
    ],
)
def test_widget_values_become_what_the_backend_takes(name: str, typed: Any, sent: Any) -> None:
    value = schema.to_json_value(VECTORIZER[name], typed)
    assert value == sent and type(value) is type(sent)
    validate_vectorizer({name: value})


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("min_df", 2.5, "min_df: must be a whole number ≥ 1 or a number > 0 and < 1"),
        ("ngram_range", [1, 11], "ngram_range: must be a list of 2"),
        ("max_features", 0, "max_features: must be ≥ 1"),
    ],
)
def test_vectorizer_bounds(name: str, value: Any, problem: str) -> None:
    found = schema.problems(VECTORIZER_FIELDS, {name: value})
    assert any(problem in line for line in found), found
    with pytest.raises(ValueError):
        validate_vectorizer({name: value})


def test_every_vectorizer_type_has_defaults_the_backend_accepts() -> None:
    for kind, defaults in CATALOG["vectorizer_defaults"].items():
        assert validate_vectorizer(defaults)["type"] == kind
    assert CATALOG["vectorizer_defaults"]["union"]["char_ngram_range"]  # its own defaults


def test_only_changed_values_are_sent() -> None:
    shown = CATALOG["vectorizer_defaults"]["union"]
    values = {**shown, "min_df": 3}
    assert schema.changed(VECTORIZER_FIELDS, values, shown) == {"min_df": 3}
