"""Collects the routers of every resource."""

from fastapi import APIRouter

from backend.api.v1 import datasets, models, ops, predictions, tasks
from backend.schemas.common import ERROR_RESPONSES

api_router = APIRouter()
for module in (ops, datasets, models, tasks, predictions):
    api_router.include_router(module.router, responses=ERROR_RESPONSES)
