"""The request limits a client must keep to (GET /api/v1/limits)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RequestLimits(BaseModel):
    max_predict_batch: int = Field(description="texts per predict, predict_scores or explain")
    max_predict_chars: int = Field(
        description="characters of all texts of one predict, predict_scores or invocations"
    )
    max_explain_chars: int = Field(description="characters of all texts of one explain")
    max_predict_scores: int = Field(description="texts × classes of one predict_scores answer")
    max_upload_mb: float = Field(description="size of an uploaded file")
    max_json_body_mb: float = Field(description="size of any other request body")
