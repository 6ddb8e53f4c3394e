"""Drift reports and feedback: requests and answers of the monitoring routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from backend.schemas.common import Label, UtcTime

PREDICTION_ID_PATTERN = r"^pred_[0-9a-f]{16}_[0-9]{1,6}$"
MAX_FEEDBACK_TEXT = 100_000


def no_nul(value: str | None) -> str | None:
    """Databases refuse NUL characters in text (PostgreSQL); say so before they do."""
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters (\\x00)")
    return value


class DriftFeature(BaseModel):
    psi: float
    reference: list[float] = Field(description="share of the validation split per bin")
    current: list[float] = Field(description="share of the window's predictions per bin")
    edges: list[float] | None = Field(
        None, description="inner bin edges (numeric features): bin i is edges[i-1] < x <= edges[i]"
    )
    categories: list[str] | None = Field(None, description="the bins of predicted_class")
    reference_mean: float | None = None
    current_mean: float | None = None


class HourCount(BaseModel):
    hour: UtcTime
    n: int


class DriftReport(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    n: int = Field(description="logged predictions in the window")
    status: Literal["ok", "drift", "too_few"]
    since: UtcTime
    until: UtcTime
    measure: Literal["psi"] = "psi"
    threshold: float = Field(description="DRIFT_PSI_THRESHOLD: PSI at or over it is drift")
    min_predictions: int = Field(description="DRIFT_MIN_PREDICTIONS: fewer is too_few")
    most_moved: str | None = Field(None, description="the feature with the highest PSI")
    features: dict[str, DriftFeature]
    hourly: list[HourCount] = Field(description="predictions per hour in the window")
    reference_n: int = Field(description="texts in the validation split")
    score_by_true_class: dict[str, dict[str, list[float]]] | None = Field(
        None, description="validation score histograms per true class (same bins as features)"
    )


class FeedbackRequest(BaseModel):
    """Either a prediction id (from a predict answer) or a model id and the text."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    prediction_id: str | None = Field(None, pattern=PREDICTION_ID_PATTERN)
    model_id: str | None = Field(None, min_length=1, max_length=200)
    text: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_FEEDBACK_TEXT,
        description="required with model_id; with prediction_id only when the log keeps no "
        "texts (LOG_PREDICTION_TEXTS=false), and then it must be the predicted text",
    )
    label: Label = Field(description="the correct label, one of the model's classes")

    @field_validator("model_id", "text")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        return no_nul(value)

    @field_validator("label")
    @classmethod
    def _label(cls, label: Label) -> Label:
        if isinstance(label, str):
            no_nul(label)
            if not label or len(label) > 255:
                raise ValueError("label must be 1 to 255 characters")
        return label

    @model_validator(mode="after")
    def _one_target(self) -> FeedbackRequest:
        if self.prediction_id is None and (self.model_id is None or self.text is None):
            raise ValueError("send a prediction_id, or a model_id and the text")
        if self.prediction_id is not None and self.model_id is not None:
            raise ValueError("send a prediction_id or a model_id, not both")
        return self


class FeedbackInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: str
    model_id: str
    prediction_id: str | None
    text: str
    label: Label
    predicted: Label | None = Field(description="what the model said, when known")
    disagrees: bool | None = Field(description="label differs from predicted, when known")
    role: str | None
    created_at: UtcTime


class FeedbackSummary(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    n: int
    with_prediction: int = Field(description="corrections whose model answer is known")
    disagreed: int
    disagreement_share: float | None
    by_label: dict[str, int]


class FeedbackDatasetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_id: str = Field(min_length=1, max_length=200)

    @field_validator("model_id")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return no_nul(value) or value


def feedback_info(row: Any) -> FeedbackInfo:
    disagrees = None if row.predicted is None else str(row.predicted) != str(row.label)
    return FeedbackInfo(
        id=row.id,
        model_id=row.model_id,
        prediction_id=row.prediction_id,
        text=row.text,
        label=row.label,
        predicted=row.predicted,
        disagrees=disagrees,
        role=row.role,
        created_at=row.created_at,
    )
