"""/health, /ready: liveness and readiness, open to everyone."""

from __future__ import annotations

import os
import socket

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from backend.api.deps import ServicesDep
from backend.errors import ServiceUnavailable

router = APIRouter(tags=["ops"])


@router.get("/health")
async def health() -> dict[str, str]:
    # `instance` tells replicas apart behind a load balancer (a container's hostname is its id).
    # async: nothing here blocks, and a sync route would cost a hop to the thread pool.
    return {"status": "ok", "instance": f"{socket.gethostname()}:{os.getpid()}"}


@router.get("/ready", responses={503: {"description": "database or default models not ready"}})
async def ready(services: ServicesDep) -> dict[str, str]:
    try:
        await run_in_threadpool(services.db.ping)
    except Exception as exc:
        raise ServiceUnavailable(f"the database does not answer: {type(exc).__name__}") from None
    if services.defaults_error:
        raise ServiceUnavailable(f"default models failed: {services.defaults_error}")
    if not services.defaults_ready:
        raise ServiceUnavailable("default models are still being prepared; retry shortly")
    return {"status": "ready"}
