"""/api/v1/limits: the request limits in force, so that a client (the web UI) can split its
requests to fit them instead of hard-coding the defaults."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import ServicesDep, ViewerRole
from backend.schemas.limits import RequestLimits

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.get("/limits", response_model=RequestLimits)
async def limits(services: ServicesDep, _role: ViewerRole) -> RequestLimits:
    """The limits (settings) every request is held to; any valid token (viewer)."""
    settings = services.settings
    return RequestLimits(
        max_predict_batch=settings.max_predict_batch,
        max_predict_chars=settings.max_predict_chars,
        max_explain_chars=settings.max_explain_chars,
        max_predict_scores=settings.max_predict_scores,
        max_upload_mb=settings.max_upload_mb,
        max_json_body_mb=settings.max_json_body_mb,
    )
