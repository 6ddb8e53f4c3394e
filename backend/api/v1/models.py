"""/api/v1/models: fit, load, unload, predict, predict_scores, evaluate, remove, promote."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool

from backend.api.deps import AdminRole, EditorRole, ServicesDep, ViewerRole
from backend.api.routing import collection
from backend.schemas.models import (
    EvaluateRequest,
    EvaluateResponse,
    FitAccepted,
    FitRequest,
    ModelInfo,
    ModelRef,
    PredictRequest,
    PredictResponse,
    PromoteRequest,
    RemoveAllResponse,
    RemovedResponse,
    ScoresResponse,
)

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@collection(router, "GET", response_model=list[ModelInfo])
def list_models(services: ServicesDep, _role: ViewerRole) -> list[ModelInfo]:
    return services.registry.list()


@router.post("/fit", status_code=status.HTTP_202_ACCEPTED, response_model=FitAccepted,
             responses={404: {"description": "unknown dataset"},
                        429: {"description": "over MAX_QUEUED_FITS"}})
def fit(request: FitRequest, services: ServicesDep, _role: EditorRole) -> FitAccepted:
    return services.models.fit(request)


@router.post("/load", response_model=ModelInfo)
def load(request: ModelRef, services: ServicesDep, _role: EditorRole) -> ModelInfo:
    return services.models.load(request.model_id)


@router.post("/unload", response_model=ModelInfo)
def unload(request: ModelRef, services: ServicesDep, _role: EditorRole) -> ModelInfo:
    return services.models.unload(request.model_id)


@router.post("/predict", response_model=PredictResponse)
async def predict(request: PredictRequest, services: ServicesDep, _role: ViewerRole
                  ) -> PredictResponse:
    return await run_in_threadpool(services.models.predict, request.model_id, request.texts)


@router.post("/predict_scores", response_model=ScoresResponse)
async def predict_scores(request: PredictRequest, services: ServicesDep, _role: ViewerRole
                         ) -> ScoresResponse:
    return await run_in_threadpool(
        services.models.predict_scores, request.model_id, request.texts
    )


@router.post("/evaluate", response_model=EvaluateResponse)
def evaluate(request: EvaluateRequest, services: ServicesDep, _role: ViewerRole
             ) -> EvaluateResponse:
    return services.models.evaluate(request.model_id, request.dataset_id)


@router.post("/remove", response_model=RemovedResponse)
def remove(request: ModelRef, services: ServicesDep, _role: EditorRole) -> RemovedResponse:
    return RemovedResponse(model_id=services.models.remove(request.model_id))


@router.post("/remove_all", response_model=RemoveAllResponse)
def remove_all(services: ServicesDep, _role: AdminRole) -> RemoveAllResponse:
    return RemoveAllResponse(removed=services.models.remove_all())


@router.get("/{model_id}", response_model=ModelInfo)
def get_model(model_id: str, services: ServicesDep, _role: ViewerRole) -> ModelInfo:
    return services.registry.get(model_id)


@router.delete("/{model_id}", response_model=RemovedResponse)
def delete_model(model_id: str, services: ServicesDep, _role: EditorRole) -> RemovedResponse:
    return RemovedResponse(model_id=services.models.remove(model_id))


@router.post("/{model_id}/promote", response_model=ModelInfo)
def promote(model_id: str, request: PromoteRequest, services: ServicesDep, _role: EditorRole
            ) -> ModelInfo:
    return services.models.promote(model_id, request.alias)
