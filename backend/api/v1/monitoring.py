"""/api/v1/models/{id}/drift and /api/v1/feedback: drift reports and moderators' corrections."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, status

from backend.api.deps import EditorRole, ServicesDep, ViewerRole
from backend.api.routing import collection
from backend.schemas.datasets import DatasetInfo
from backend.schemas.monitoring import (
    DriftReport,
    FeedbackDatasetRequest,
    FeedbackInfo,
    FeedbackRequest,
    FeedbackSummary,
)

drift_router = APIRouter(prefix="/api/v1/models", tags=["monitoring"])
router = APIRouter(prefix="/api/v1/feedback", tags=["monitoring"])
TIME_HELP = "ISO 8601 time; UTC when no zone is given"


def naive_utc(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@drift_router.get(
    "/{model_id}/drift",
    response_model=DriftReport,
    responses={409: {"description": "the model has no drift reference"}},
)
def model_drift(
    model_id: str,
    services: ServicesDep,
    _role: ViewerRole,
    since: datetime | None = Query(
        None, description=TIME_HELP + "; default until − DRIFT_WINDOW_HOURS"
    ),
    until: datetime | None = Query(None, description=TIME_HELP + "; default now"),
) -> DriftReport:
    """PSI per feature of the model's logged predictions in [since, until) against its
    validation split; status ok, drift (a PSI ≥ DRIFT_PSI_THRESHOLD) or too_few."""
    return services.drift.report(model_id, naive_utc(since), naive_utc(until))


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=FeedbackInfo, include_in_schema=False
)
@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackInfo,
    responses={
        404: {"description": "unknown prediction or model"},
        409: {"description": "texts are not logged: send the text"},
    },
)
def send_feedback(
    request: FeedbackRequest, services: ServicesDep, role: ViewerRole
) -> FeedbackInfo:
    """The right label for a prediction (by id) or for a model's text; a repeat replaces."""
    return services.feedback.submit(request, role if services.settings.api_tokens else None)


@collection(router, "GET", response_model=list[FeedbackInfo])
def list_feedback(
    services: ServicesDep,
    _role: ViewerRole,
    model_id: str | None = Query(None, max_length=200),
    since: datetime | None = Query(None, description=TIME_HELP),
    limit: int = Query(100, ge=1, le=1000),
) -> list[FeedbackInfo]:
    return services.feedback.list(model_id, naive_utc(since), limit)


@router.get("/summary", response_model=FeedbackSummary)
def feedback_summary(
    services: ServicesDep, _role: ViewerRole, model_id: str = Query(min_length=1, max_length=200)
) -> FeedbackSummary:
    """Counts per label and the share of corrections that disagreed with the model."""
    return services.feedback.summary(model_id)


@router.post(
    "/dataset",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetInfo,
    responses={409: {"description": "no usable feedback yet"}},
)
def feedback_dataset(
    request: FeedbackDatasetRequest, services: ServicesDep, _role: EditorRole
) -> DatasetInfo:
    """The model's corrections as a dataset, ready for POST /api/v1/models/retrain."""
    return services.feedback.dataset(request.model_id)
