"""What the Train form offers, mirroring the backend's parameter validation (ranges, choices,
defaults). Hardcoded on purpose: the contract has no schema route, and a form that lets an analyst
submit only valid values saves a round trip per typo. The backend still validates everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ParamKind = Literal["float", "int", "bool", "choice"]


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter: its kind, default and allowed values."""

    name: str
    kind: ParamKind
    default: Any
    help: str = ""
    minimum: float | None = None
    min_exclusive: bool = False
    maximum: float | None = None
    # For `choice`; None among them means "not set" (sent as JSON null).
    choices: tuple[Any, ...] = field(default_factory=tuple)
    step: float | None = None


_CLASS_WEIGHT = ParamSpec(
    "class_weight",
    "choice",
    None,
    "'balanced' reweights classes inversely to their frequency",
    choices=(None, "balanced"),
)
_MAX_ITER = ParamSpec("max_iter", "int", 1000, "Iteration limit of the solver", minimum=1)

MODEL_TYPES: dict[str, str] = {
    "logreg": "Logistic regression",
    "mnb": "Multinomial naive Bayes",
    "complement_nb": "Complement naive Bayes",
    "svc": "Linear SVM (LinearSVC)",
    "sgd": "SGD linear classifier",
}

_C = ParamSpec(
    "C",
    "float",
    1.0,
    "Inverse regularisation strength (> 0)",
    minimum=0.0,
    min_exclusive=True,
    step=0.1,
)

MODEL_PARAMS: dict[str, tuple[ParamSpec, ...]] = {
    "logreg": (
        _C,
        _MAX_ITER,
        _CLASS_WEIGHT,
        ParamSpec(
            "solver",
            "choice",
            "lbfgs",
            "Optimisation algorithm",
            choices=("lbfgs", "liblinear", "saga"),
        ),
    ),
    "mnb": (
        ParamSpec("alpha", "float", 1.0, "Additive smoothing (≥ 0)", minimum=0.0, step=0.1),
        ParamSpec("fit_prior", "bool", True, "Learn class priors instead of a uniform prior"),
    ),
    "complement_nb": (
        ParamSpec("alpha", "float", 1.0, "Additive smoothing (≥ 0)", minimum=0.0, step=0.1),
        ParamSpec("norm", "bool", False, "Second normalisation of the weights"),
    ),
    "svc": (
        _C,
        _MAX_ITER,
        _CLASS_WEIGHT,
    ),
    "sgd": (
        ParamSpec(
            "loss",
            "choice",
            "hinge",
            "Loss function",
            choices=("hinge", "log_loss", "modified_huber"),
        ),
        ParamSpec(
            "alpha",
            "float",
            0.0001,
            "Regularisation strength (> 0)",
            minimum=0.0,
            min_exclusive=True,
            step=0.0001,
        ),
        ParamSpec(
            "penalty", "choice", "l2", "Regularisation term", choices=("l2", "l1", "elasticnet")
        ),
        _MAX_ITER,
        _CLASS_WEIGHT,
    ),
}

VECTORIZER_TYPES: dict[str, str] = {"tfidf": "TF-IDF", "count": "Counts"}
ANALYZERS: tuple[str, ...] = ("word", "char_wb")
NGRAM_LIMITS = (1, 10)

VECTORIZER_DEFAULTS: dict[str, Any] = {
    "type": "tfidf",
    "analyzer": "word",
    "ngram_range": [1, 1],
    "min_df": 1,
    "max_df": 1.0,
    "max_features": None,
    "sublinear_tf": False,
    "lowercase": True,
}
TEST_SIZE_DEFAULT = 0.2
RANDOM_STATE_DEFAULT = 42


def default_params(model_type: str) -> dict[str, Any]:
    """The backend's defaults for `model_type`."""
    return {spec.name: spec.default for spec in MODEL_PARAMS[model_type]}


def validate_params(model_type: str, params: dict[str, Any]) -> list[str]:
    """Problems with `params` for `model_type`, worded for the form (empty list = valid)."""
    if model_type not in MODEL_PARAMS:
        return [f"model_type must be one of {', '.join(MODEL_PARAMS)}, got {model_type!r}"]
    specs = {spec.name: spec for spec in MODEL_PARAMS[model_type]}
    problems = [f"{name}: not a parameter of {model_type}" for name in params if name not in specs]
    for name, value in params.items():
        spec = specs.get(name)
        if spec is not None:
            problem = _check_value(spec, value)
            if problem:
                problems.append(f"{name}: {problem}")
    return problems


def _check_value(spec: ParamSpec, value: Any) -> str | None:
    if spec.kind == "choice":
        return None if value in spec.choices else f"must be one of {list(spec.choices)}"
    if spec.kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if spec.kind == "int" and not float(value).is_integer():
        return "must be a whole number"
    if spec.minimum is not None:
        if spec.min_exclusive and value <= spec.minimum:
            return f"must be > {spec.minimum:g}"
        if not spec.min_exclusive and value < spec.minimum:
            return f"must be ≥ {spec.minimum:g}"
    if spec.maximum is not None and value > spec.maximum:
        return f"must be ≤ {spec.maximum:g}"
    return None


def normalize_min_df(value: float) -> int | float:
    """A count when ≥ 1 (sent as int), a share of documents when in (0, 1)."""
    return int(value) if value >= 1 else float(value)


def validate_vectorizer(vectorizer: dict[str, Any]) -> list[str]:
    """Problems with a vectorizer config, same rules as the backend (empty list = valid)."""
    problems: list[str] = []
    if vectorizer.get("type", "tfidf") not in VECTORIZER_TYPES:
        problems.append(f"type: must be one of {list(VECTORIZER_TYPES)}")
    if vectorizer.get("analyzer", "word") not in ANALYZERS:
        problems.append(f"analyzer: must be one of {list(ANALYZERS)}")
    low, high = vectorizer.get("ngram_range", [1, 1])
    if not (NGRAM_LIMITS[0] <= low <= high <= NGRAM_LIMITS[1]):
        problems.append("ngram_range: need 1 ≤ min ≤ max ≤ 10")
    min_df = vectorizer.get("min_df", 1)
    if isinstance(min_df, bool) or not (
        (isinstance(min_df, int) and min_df >= 1) or (isinstance(min_df, float) and 0 < min_df < 1)
    ):
        problems.append("min_df: a whole count ≥ 1 or a share in (0, 1)")
    max_df = vectorizer.get("max_df", 1.0)
    if not 0 < max_df <= 1:
        problems.append("max_df: a share in (0, 1]")
    max_features = vectorizer.get("max_features")
    if max_features is not None and (not isinstance(max_features, int) or max_features < 1):
        problems.append("max_features: a whole number ≥ 1, or empty for no limit")
    if vectorizer.get("sublinear_tf") and vectorizer.get("type") == "count":
        problems.append("sublinear_tf: only for the tfidf vectorizer")
    return problems


def build_fit_request(
    *,
    name: str,
    dataset_id: str,
    model_type: str,
    params: dict[str, Any],
    vectorizer: dict[str, Any],
    test_size: float = TEST_SIZE_DEFAULT,
    random_state: int = RANDOM_STATE_DEFAULT,
) -> dict[str, Any]:
    """The body of POST /api/v1/models/fit; raises ValueError listing every problem."""
    problems = []
    if not name.strip():
        problems.append("name: give the model a name")
    if not dataset_id:
        problems.append("dataset: choose a dataset")
    problems += validate_params(model_type, params)
    problems += validate_vectorizer(vectorizer)
    if not 0 < test_size < 1:
        problems.append("test_size: a share in (0, 1)")
    if problems:
        raise ValueError("\n".join(problems))
    clean_vectorizer = dict(vectorizer)
    if clean_vectorizer.get("type") == "count":
        # sublinear_tf belongs to TfidfVectorizer only; sending it for counts would be a 422.
        clean_vectorizer.pop("sublinear_tf", None)
    return {
        "name": name.strip(),
        "dataset_id": dataset_id,
        "model_type": model_type,
        "params": params,
        "vectorizer": clean_vectorizer,
        "test_size": test_size,
        "random_state": random_state,
    }
