"""/api/v1/whoami: the caller's role, so a client (the web UI) can check a token at sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from backend.api.deps import caller_role, service_is_open
from backend.schemas.auth import WhoAmI

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.get(
    "/whoami", response_model=WhoAmI, responses={401: {"description": "missing or unknown token"}}
)
async def whoami(
    role: Annotated[str, Depends(caller_role)],
    is_open: Annotated[bool, Depends(service_is_open)],
) -> WhoAmI:
    """Any valid token (or none on an open service); 401 for a missing or unknown token."""
    return WhoAmI(role=None if is_open else role, open=is_open)
