"""Prediction log answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from backend.schemas.common import UtcTime


class PredictionLogEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: int
    created_at: UtcTime
    model_id: str
    endpoint: str
    n_texts: int
    latency_ms: float
    role: str | None
    items: list[dict[str, Any]]
    call_id: str | None = None
    # One per text, for POST /api/v1/feedback (rows written before monitoring have none).
    prediction_ids: list[str] | None = None

    @model_validator(mode="after")
    def _prediction_ids(self) -> PredictionLogEntry:
        if self.call_id and self.prediction_ids is None:
            self.prediction_ids = [f"{self.call_id}_{i}" for i in range(self.n_texts)]
        return self
