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
    # The schema's fields are the settings' own names: read them off the settings.
    return RequestLimits.model_validate(services.settings, from_attributes=True)
