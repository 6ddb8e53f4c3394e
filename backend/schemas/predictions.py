"""Prediction log answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

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
