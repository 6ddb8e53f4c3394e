"""Per-type hyperparameter schemas: the only parameters ever passed to scikit-learn."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ClassWeight = Literal["balanced"] | None


class _Strict(BaseModel):
    """A parameter schema; its docstring's first line titles the model type in clients."""

    model_config = ConfigDict(extra="forbid")


# Help texts that several model types share; clients show them beside the inputs.
INVERSE_C = "inverse regularisation strength: smaller is simpler"
MAX_ITER = "iteration limit of the solver"
CLASS_WEIGHT = "balanced: weigh classes inversely to their frequency"
SMOOTHING = "additive (Laplace) smoothing"


class LogRegParams(_Strict):
    """Logistic regression."""

    C: float = Field(1.0, gt=0, le=1e6, description=INVERSE_C)
    max_iter: int = Field(1000, ge=1, le=100_000, description=MAX_ITER)
    class_weight: ClassWeight = Field(None, description=CLASS_WEIGHT)
    solver: Literal["lbfgs", "liblinear", "saga"] = Field(
        "lbfgs", description="optimisation algorithm"
    )


class MultinomialNBParams(_Strict):
    """Multinomial naive Bayes."""

    alpha: float = Field(1.0, ge=0, le=1e6, description=SMOOTHING)
    fit_prior: bool = Field(True, description="learn class priors instead of a uniform prior")


class ComplementNBParams(_Strict):
    """Complement naive Bayes."""

    alpha: float = Field(1.0, ge=0, le=1e6, description=SMOOTHING)
    norm: bool = Field(False, description="a second normalisation of the weights")


class LinearSVCParams(_Strict):
    """Linear SVM (LinearSVC)."""

    C: float = Field(1.0, gt=0, le=1e6, description=INVERSE_C)
    max_iter: int = Field(1000, ge=1, le=100_000, description=MAX_ITER)
    class_weight: ClassWeight = Field(None, description=CLASS_WEIGHT)
    calibrate: bool = Field(
        False, description="fit sigmoid calibration (3 folds) so scores are probabilities"
    )


class NBSVMParams(_Strict):
    """NB-SVM (logistic regression on naive-Bayes log-count ratios)."""

    C: float = Field(4.0, gt=0, le=1e6, description="inverse regularisation of the linear model")
    alpha: float = Field(1.0, gt=0, le=1e6, description="smoothing of the naive-Bayes ratios")
    max_iter: int = Field(1000, ge=1, le=100_000, description=MAX_ITER)
    class_weight: ClassWeight = Field(None, description=CLASS_WEIGHT)


class AutoParams(_Strict):
    """Automatic choice.

    The service picks the model kind, features and parameters by cross-validated macro-F1
    within the time budget.
    """

    budget_s: float = Field(
        300, ge=10, le=3600, description="seconds the search of kinds and parameters may take"
    )
    chosen: dict[str, Any] | None = Field(
        None,
        description="set by the service after the fit: the configuration that won",
        json_schema_extra={"readOnly": True},
    )


class SGDParams(_Strict):
    """SGD linear classifier."""

    loss: Literal["hinge", "log_loss", "modified_huber"] = Field(
        "hinge", description="hinge: a linear SVM; log_loss: logistic regression"
    )
    alpha: float = Field(0.0001, gt=0, le=10, description="regularisation strength")
    penalty: Literal["l2", "l1", "elasticnet"] = Field("l2", description="regularisation term")
    max_iter: int = Field(1000, ge=1, le=100_000, description=MAX_ITER)
    class_weight: ClassWeight = Field(None, description=CLASS_WEIGHT)


PARAMS_BY_TYPE: dict[str, type[_Strict]] = {
    "logreg": LogRegParams,
    "mnb": MultinomialNBParams,
    "complement_nb": ComplementNBParams,
    "svc": LinearSVCParams,
    "sgd": SGDParams,
    "nbsvm": NBSVMParams,
    "auto": AutoParams,
}
ModelType = Literal["logreg", "mnb", "complement_nb", "svc", "sgd", "nbsvm", "auto"]

NgramSize = Annotated[int, Field(ge=1, le=10)]
MinDf = Annotated[int, Field(ge=1)] | Annotated[float, Field(gt=0, lt=1)]
MaxDf = Annotated[float, Field(gt=0, le=1)] | Annotated[int, Field(ge=1)]


# `{"type": "union"}` alone gives word 1-2-grams and char_wb 2-5-grams, sublinear TF-IDF.
UNION_DEFAULTS: dict[str, Any] = {
    "ngram_range": (1, 2),
    "min_df": 2,
    "sublinear_tf": True,
    "char_ngram_range": (2, 5),
    "char_min_df": 2,
    "char_max_features": 300_000,
}
CHAR_KEYS = ("char_ngram_range", "char_min_df", "char_max_features")


class VectorizerParams(_Strict):
    type: Literal["tfidf", "count", "union"] = Field(
        "tfidf", description="union: word and char_wb TF-IDF side by side"
    )
    analyzer: Literal["word", "char_wb"] = Field("word", description="tfidf/count only")
    ngram_range: tuple[NgramSize, NgramSize] = Field(
        (1, 1), description="shortest and longest n-grams, in words (or characters for char_wb)"
    )
    min_df: MinDf = Field(
        1, description="ignore terms in fewer documents: a count ≥ 1, or a share in (0, 1)"
    )
    max_df: MaxDf = Field(
        1.0, description="ignore terms in more documents: a share in (0, 1], or a count ≥ 1"
    )
    max_features: int | None = Field(
        None, ge=1, description="keep only the most frequent terms; empty for no limit"
    )
    sublinear_tf: bool = Field(False, description="1 + log(tf) instead of tf (tfidf and union)")
    lowercase: bool = True
    lemmatize: bool = Field(
        False, description="replace words by their lemmas (English and Russian) before n-grams"
    )
    char_ngram_range: tuple[NgramSize, NgramSize] | None = Field(
        None, description="union: char n-grams"
    )
    char_min_df: MinDf | None = None
    char_max_features: int | None = Field(None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _union_defaults(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("type") == "union":
            return {**UNION_DEFAULTS, **values}
        return values

    @model_validator(mode="after")
    def _check(self) -> VectorizerParams:
        for name in ("ngram_range", "char_ngram_range"):
            low, high = getattr(self, name) or (1, 1)
            if not 1 <= low <= high <= 10:
                raise ValueError(f"{name} must be [min, max] with 1 <= min <= max <= 10")
        if self.sublinear_tf and self.type == "count":
            raise ValueError("sublinear_tf applies to the tfidf and union vectorizers only")
        if self.type == "union" and self.analyzer != "word":
            raise ValueError("a union has its own char part; leave analyzer as word")
        given = [k for k in CHAR_KEYS if getattr(self, k) is not None]
        if self.type != "union" and given:
            raise ValueError(f"{', '.join(given)} apply to the union vectorizer only")
        return self


def validation_message(prefix: str, exc: ValidationError) -> str:
    """One line naming each offending key, e.g. `params.C: Input should be greater than 0`."""
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *error["loc"]))
        parts.append(f"{loc}: {error['msg']}")
    return "; ".join(parts)


def validate_params(model_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validated params with defaults filled in; ValueError naming the bad key otherwise."""
    schema = PARAMS_BY_TYPE[model_type]
    try:
        return schema.model_validate(params).model_dump()
    except ValidationError as exc:
        raise ValueError(validation_message("params", exc)) from None


def validate_vectorizer(vectorizer: dict[str, Any]) -> dict[str, Any]:
    try:
        dumped = VectorizerParams.model_validate(vectorizer).model_dump()
    except ValidationError as exc:
        raise ValueError(validation_message("vectorizer", exc)) from None
    if dumped["type"] != "union":
        for key in CHAR_KEYS:
            dumped.pop(key)
    for key in ("ngram_range", "char_ngram_range"):
        if dumped.get(key) is not None:
            dumped[key] = list(dumped[key])
    return dumped
