"""Task answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from backend.schemas.common import UtcTime

TaskStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class TaskInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    model_id: str | None
    status: TaskStatus
    progress: float
    stage: str | None
    error: str | None
    result: dict[str, Any] | None
    cancel_requested: bool = False
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None
