"""Model requests and answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.ml.params import ModelType, validate_params, validate_vectorizer
from backend.ml.search import validate_grid
from backend.schemas.common import Label, NoNulStr, UtcTime

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$"
ALIAS_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$"


class ModelInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: str
    name: str
    version: int
    model_type: str
    params: dict[str, Any]
    vectorizer: dict[str, Any]
    status: Literal["training", "trained", "failed"]
    loaded: bool
    is_default: bool
    aliases: list[str] = []
    metrics: dict[str, Any]
    classes: list[Label] = []
    dataset_id: str | None
    label_names: dict[str, str] | None = None
    error: str | None = None
    sklearn_version: str | None = None
    python_version: str | None = None
    warnings: list[str] = []
    created_at: UtcTime


class SearchSpec(BaseModel):
    """A grid search over classifier parameters, scored by stratified cross-validation."""

    model_config = ConfigDict(extra="forbid")

    param_grid: dict[str, list[Any]]
    cv: int = Field(3, ge=2, le=10)
    scoring: Literal["accuracy", "f1", "precision", "recall", "roc_auc"] = "f1"


class FitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str = Field(pattern=NAME_PATTERN, description="label; a used name makes a new version")
    dataset_id: NoNulStr = Field(min_length=1, max_length=64)
    model_type: ModelType = "logreg"
    params: dict[str, Any] = Field(default_factory=dict)
    vectorizer: dict[str, Any] = Field(default_factory=dict)
    test_size: float = Field(0.2, gt=0, lt=1)
    # The database column is a 32-bit integer on PostgreSQL: a larger seed is a 422 everywhere.
    random_state: int = Field(42, ge=0, le=2**31 - 1)
    search: SearchSpec | None = Field(
        None, description="grid search over params; the best candidate becomes the model"
    )
    tune_threshold: bool = Field(
        False,
        description="binary models: set the decision threshold that maximises F1 on "
        "out-of-fold scores of the training split (model_type auto always does)",
    )

    @model_validator(mode="after")
    def _validate_hyperparameters(self) -> FitRequest:
        # Each model type has its own schema; unknown keys or bad values name themselves.
        if self.model_type == "auto":
            # A retrain of an auto model repeats the search: the earlier choice (params.chosen
            # and its vectorizer) is history, not a setting.
            if self.vectorizer and not self.params.get("chosen"):
                raise ValueError(
                    "vectorizer: model_type auto chooses its own features; leave vectorizer out"
                )
            self.vectorizer = {}
            if self.search is not None:
                raise ValueError("search: model_type auto runs its own search; leave search out")
        self.params = validate_params(self.model_type, self.params)
        self.vectorizer = validate_vectorizer(self.vectorizer)
        if self.search is not None:
            self.search.param_grid = validate_grid(
                self.model_type, self.params, self.search.param_grid
            )
        return self


class ModelRef(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_id: NoNulStr = Field(min_length=1, max_length=200)


class PredictRequest(ModelRef):
    texts: list[str] = Field(description="texts to classify, one label each")

    @field_validator("texts")
    @classmethod
    def _not_empty(cls, texts: list[str]) -> list[str]:
        if not texts:
            raise ValueError("texts must hold at least one text")
        return texts


class PredictResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    predictions: list[Label]
    # One per text, for POST /api/v1/feedback; absent when the prediction log is off.
    prediction_ids: list[str] | None = None


class ScoresResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    classes: list[Label]
    score_kind: Literal["probability", "decision_function"]
    scores: list[list[float]]
    prediction_ids: list[str] | None = None


class EvaluateRequest(ModelRef):
    dataset_id: NoNulStr | None = Field(
        None, min_length=1, max_length=64, description="required unless split is holdout"
    )
    split: Literal["dataset", "holdout"] = Field(
        "dataset",
        description="dataset: every row of `dataset_id`; holdout: the model's own held-out "
        "split, re-created from its training data (scores on training rows are inflated)",
    )

    @model_validator(mode="after")
    def _dataset_unless_holdout(self) -> EvaluateRequest:
        if self.split == "dataset" and self.dataset_id is None:
            raise ValueError("dataset_id is required (or ask for split: holdout)")
        return self


class RocCurve(BaseModel):
    fpr: list[float]
    tpr: list[float]
    thresholds: list[float]


class PrCurve(BaseModel):
    precision: list[float]
    recall: list[float]
    thresholds: list[float]


class EvaluateResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    dataset_id: str | None
    split: Literal["dataset", "holdout"] = "dataset"
    classes: list[Label]
    metrics: dict[str, Any]
    roc: RocCurve
    pr: PrCurve | None = Field(None, description="precision-recall curve (binary models)")
    confusion_matrix: list[list[int]]


class FitAccepted(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    task_id: str
    model_id: str


class RemoveAllResponse(BaseModel):
    removed: list[str]


class RemovedResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    removed: bool = True


class PromoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: str = Field("production", pattern=ALIAS_PATTERN)


class RetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    dataset_id: NoNulStr = Field(min_length=1, max_length=64)
    holdout_fraction: float = Field(0.2, gt=0, lt=1)
    metric: Literal["accuracy", "f1", "precision", "recall", "roc_auc"] = "f1"
    min_improvement: float = Field(0.0, ge=-1, le=1)
    alias: str = Field("production", pattern=ALIAS_PATTERN)
