"""/api/v1/predictions: the prediction log, newest first."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query

from backend.api.deps import ServicesDep, ViewerRole
from backend.api.routing import collection
from backend.schemas.predictions import PredictionLogEntry

router = APIRouter(prefix="/api/v1/predictions", tags=["predictions"])


@collection(router, "GET", response_model=list[PredictionLogEntry])
def list_predictions(
    services: ServicesDep,
    _role: ViewerRole,
    model_id: str | None = Query(None, max_length=200),
    since: datetime | None = Query(None, description="ISO 8601 time; UTC when no zone is given"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[PredictionLogEntry]:
    if since is not None and since.tzinfo is not None:
        since = since.astimezone(UTC).replace(tzinfo=None)
    return services.prediction_log.query(model_id=model_id, since=since, limit=limit)
