"""/api/v1/model_types: what a fit accepts, generated from the backend's parameter schemas."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import ViewerRole
from backend.api.routing import collection
from backend.schemas.model_types import ModelTypesResponse
from backend.services.model_types import model_types_response

router = APIRouter(prefix="/api/v1/model_types", tags=["models"])


@collection(router, "GET", response_model=ModelTypesResponse)
def list_model_types(_role: ViewerRole) -> ModelTypesResponse:
    """Each model type's params schema (defaults, bounds, help), the vectorizer's, the split's."""
    return model_types_response()
