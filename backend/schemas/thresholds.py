"""Decision threshold requests and answers (binary models)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.schemas.common import Label


class ThresholdRequest(BaseModel):
    """Exactly one of: the cut itself, or a precision or recall to reach on held-out data."""

    model_config = ConfigDict(extra="forbid")

    threshold: float | None = Field(
        None,
        allow_inf_nan=False,
        description="the cut on the positive class's score: a text is positive at or above "
        "it (within [0, 1] for models whose scores are probabilities)",
    )
    target_precision: float | None = Field(
        None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="the lowest cut whose held-out precision reaches this (most recall)",
    )
    target_recall: float | None = Field(
        None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="the highest cut whose held-out recall reaches this (most precision)",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ThresholdRequest:
        given = [
            k
            for k in ("threshold", "target_precision", "target_recall")
            if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of threshold, target_precision, target_recall"
                + (f"; got {', '.join(given)}" if given else "")
            )
        return self


class OperatingCurve(BaseModel):
    """Held-out figures at every stored cut, from high to low."""

    thresholds: list[float]
    precision: list[float]
    recall: list[float]
    flagged_per_1000: list[float]


class ThresholdInfo(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    threshold: float | None = Field(description="the stored cut; null decides by the largest score")
    default_threshold: float = Field(description="the cut equal to deciding by the largest score")
    score_kind: Literal["probability", "decision_function"]
    positive_label: Label
    curve: OperatingCurve | None = Field(
        description="null when the model has no held-out scores (uploaded, or trained before "
        "they were kept)"
    )
