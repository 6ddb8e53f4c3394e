"""Per-type hyperparameter schemas: the only parameters ever passed to scikit-learn."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ClassWeight = Literal["balanced"] | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogRegParams(_Strict):
    C: float = Field(1.0, gt=0, le=1e6)
    max_iter: int = Field(1000, ge=1, le=100_000)
    class_weight: ClassWeight = None
    solver: Literal["lbfgs", "liblinear", "saga"] = "lbfgs"


class MultinomialNBParams(_Strict):
    alpha: float = Field(1.0, ge=0, le=1e6)
    fit_prior: bool = True


class ComplementNBParams(_Strict):
    alpha: float = Field(1.0, ge=0, le=1e6)
    norm: bool = False


class LinearSVCParams(_Strict):
    C: float = Field(1.0, gt=0, le=1e6)
    max_iter: int = Field(1000, ge=1, le=100_000)
    class_weight: ClassWeight = None
    calibrate: bool = Field(
        False, description="fit sigmoid calibration (3 folds) so scores are probabilities"
    )


class NBSVMParams(_Strict):
    C: float = Field(4.0, gt=0, le=1e6, description="inverse regularisation of the linear model")
    alpha: float = Field(1.0, gt=0, le=1e6, description="smoothing of the naive-Bayes ratios")
    max_iter: int = Field(1000, ge=1, le=100_000)
    class_weight: ClassWeight = None


class AutoParams(_Strict):
    budget_s: float = Field(
        300, ge=10, le=3600, description="seconds the search of kinds and parameters may take"
    )
    chosen: dict[str, Any] | None = Field(
        None, description="set by the service after the fit: the configuration that won"
    )


class SGDParams(_Strict):
    loss: Literal["hinge", "log_loss", "modified_huber"] = "hinge"
    alpha: float = Field(0.0001, gt=0, le=10)
    penalty: Literal["l2", "l1", "elasticnet"] = "l2"
    max_iter: int = Field(1000, ge=1, le=100_000)
    class_weight: ClassWeight = None


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

MinDf = Annotated[int, Field(ge=1)] | Annotated[float, Field(gt=0, lt=1)]
MaxDf = Annotated[float, Field(gt=0, le=1)] | Annotated[int, Field(ge=1)]


# `{"type": "union"}` alone gives word 1-2-grams and char_wb 2-5-grams, sublinear TF-IDF.
UNION_DEFAULTS: dict[str, Any] = {
    "ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True,
    "char_ngram_range": (2, 5), "char_min_df": 2, "char_max_features": 300_000,
}
CHAR_KEYS = ("char_ngram_range", "char_min_df", "char_max_features")


class VectorizerParams(_Strict):
    type: Literal["tfidf", "count", "union"] = Field(
        "tfidf", description="union: word and char_wb TF-IDF side by side"
    )
    analyzer: Literal["word", "char_wb"] = Field("word", description="tfidf/count only")
    ngram_range: tuple[int, int] = (1, 1)
    min_df: MinDf = 1
    max_df: MaxDf = 1.0
    max_features: int | None = Field(None, ge=1)
    sublinear_tf: bool = False
    lowercase: bool = True
    lemmatize: bool = Field(
        False, description="replace words by their lemmas (English and Russian) before n-grams"
    )
    char_ngram_range: tuple[int, int] | None = Field(None, description="union: char n-grams")
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
