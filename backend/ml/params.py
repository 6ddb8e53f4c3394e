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
}
ModelType = Literal["logreg", "mnb", "complement_nb", "svc", "sgd"]

MinDf = Annotated[int, Field(ge=1)] | Annotated[float, Field(gt=0, lt=1)]
MaxDf = Annotated[float, Field(gt=0, le=1)] | Annotated[int, Field(ge=1)]


class VectorizerParams(_Strict):
    type: Literal["tfidf", "count"] = "tfidf"
    analyzer: Literal["word", "char_wb"] = "word"
    ngram_range: tuple[int, int] = (1, 1)
    min_df: MinDf = 1
    max_df: MaxDf = 1.0
    max_features: int | None = Field(None, ge=1)
    sublinear_tf: bool = False
    lowercase: bool = True

    @model_validator(mode="after")
    def _check(self) -> VectorizerParams:
        low, high = self.ngram_range
        if not 1 <= low <= high <= 10:
            raise ValueError("ngram_range must be [min, max] with 1 <= min <= max <= 10")
        if self.sublinear_tf and self.type != "tfidf":
            raise ValueError("sublinear_tf applies to the tfidf vectorizer only")
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
    dumped["ngram_range"] = list(dumped["ngram_range"])
    return dumped
