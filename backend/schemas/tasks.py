"""Task answers."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from backend.schemas.common import UtcTime

# The one list of task statuses and kinds: the task store, the runner, /metrics and the
# OpenAPI document (which clients read) all take them from here; mypy checks every use.
TaskStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TASK_STATUSES: tuple[TaskStatus, ...] = get_args(TaskStatus)
ACTIVE_STATUSES: tuple[TaskStatus, ...] = ("queued", "running")
ENDED_STATUSES: tuple[TaskStatus, ...] = ("succeeded", "failed", "cancelled")
TaskKind = Literal["fit", "search", "retrain"]


class TaskInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: TaskKind
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
