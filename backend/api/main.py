"""Collects the routers of every resource.

They are included into the app directly, not through one parent router: each level of
nesting is one more match pass per request, and routing was a third of a prediction's time.
The models router comes first so that predictions match early.
"""

from fastapi import APIRouter, FastAPI

from backend.api.v1 import (
    datasets,
    model_types,
    models,
    monitoring,
    ops,
    predictions,
    request_limits,
    tasks,
    whoami,
)
from backend.schemas.common import ERROR_RESPONSES

ROUTERS: tuple[APIRouter, ...] = (
    models.router,
    ops.router,
    datasets.router,
    tasks.router,
    predictions.router,
    whoami.router,
    request_limits.router,
    monitoring.drift_router,
    monitoring.router,
    model_types.router,
)


def include_routers(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
