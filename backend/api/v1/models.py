"""/api/v1/models: fit, load, unload, predict, predict_scores, evaluate, remove, promote."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import ORJSONResponse, Response

from backend.api.deps import AdminRole, EditorRole, LoggedViewer, ServicesDep, ViewerRole
from backend.api.routing import collection
from backend.schemas.explanations import ExplainRequest, ExplainResponse
from backend.schemas.invocations import INVOCATIONS_REQUEST_BODY, InvocationsResponse
from backend.schemas.models import (
    NAME_PATTERN,
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
    RetrainRequest,
    ScoresResponse,
)
from backend.schemas.thresholds import ThresholdInfo, ThresholdRequest
from backend.services.invocations import answer_invocation

router = APIRouter(prefix="/api/v1/models", tags=["models"])
TOO_MUCH_TEXT = "over MAX_PREDICT_BATCH texts or MAX_PREDICT_CHARS characters in all"


# Predictions first: routes are matched in order and these are the hot path. Well-formed
# requests are answered by api/fast_predict.py before they get here, with the same rules.
@router.post(
    "/predict", response_model=PredictResponse, responses={413: {"description": TOO_MUCH_TEXT}}
)
async def predict(
    request: PredictRequest, services: ServicesDep, role: LoggedViewer
) -> ORJSONResponse:
    answer = await services.predictions.serve("predict", request.model_id, request.texts, role)
    return ORJSONResponse(answer)


@router.post(
    "/predict_scores",
    response_model=ScoresResponse,
    responses={413: {"description": f"{TOO_MUCH_TEXT}, or MAX_PREDICT_SCORES"}},
)
async def predict_scores(
    request: PredictRequest, services: ServicesDep, role: LoggedViewer
) -> ORJSONResponse:
    answer = await services.predictions.serve("scores", request.model_id, request.texts, role)
    return ORJSONResponse(answer)


@router.post(
    "/{model_ref}/invocations",
    response_model=InvocationsResponse,
    openapi_extra={"requestBody": INVOCATIONS_REQUEST_BODY},
    responses={
        413: {"description": TOO_MUCH_TEXT},
        415: {"description": "a content type other than application/json or text/csv"},
    },
)
async def invocations(
    model_ref: str, request: Request, services: ServicesDep, role: LoggedViewer
) -> ORJSONResponse:
    """MLflow's scoring protocol (`mlflow models serve` clients): predictions for a model.

    `model_ref` is a model id or `name@alias`. The body is one of MLflow's formats:
    `{"dataframe_split": {"columns", "data"}}`, `{"dataframe_records": [...]}`,
    `{"instances": [...]}`, `{"inputs": [...]}` (JSON), or `text/csv` with a header line.
    The text is the single column, or the column named `text`.
    """
    answer = await answer_invocation(
        services, model_ref, request.headers.get("content-type"), await request.body(), role
    )
    return ORJSONResponse(answer)


@collection(router, "GET", response_model=list[ModelInfo])
def list_models(services: ServicesDep, _role: ViewerRole) -> list[ModelInfo]:
    return services.registry.list()


@router.post(
    "/fit",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FitAccepted,
    responses={
        404: {"description": "unknown dataset"},
        429: {"description": "over MAX_QUEUED_FITS"},
    },
)
def fit(request: FitRequest, services: ServicesDep, _role: EditorRole) -> FitAccepted:
    return services.training.fit(request)


@router.post(
    "/retrain",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FitAccepted,
    responses={
        404: {"description": "unknown dataset"},
        409: {"description": "no model holds name@alias"},
    },
)
def retrain(request: RetrainRequest, services: ServicesDep, _role: EditorRole) -> FitAccepted:
    """Train a challenger on old + new data; promote it only if it wins on held-out new data."""
    return services.retraining.start(request)


@router.post("/load", response_model=ModelInfo)
def load(request: ModelRef, services: ServicesDep, _role: EditorRole) -> ModelInfo:
    return services.loaded_set.load(request.model_id)


@router.post("/unload", response_model=ModelInfo)
def unload(request: ModelRef, services: ServicesDep, _role: EditorRole) -> ModelInfo:
    return services.loaded_set.unload(request.model_id)


@router.post(
    "/evaluate",
    response_model=EvaluateResponse,
    responses={
        409: {"description": "MAX_LOADED_MODELS reached (model not loaded)"},
        422: {"description": "over EVALUATE_TIMEOUT_S"},
        429: {"description": "too many evaluations waiting"},
    },
)
async def evaluate(
    request: EvaluateRequest, services: ServicesDep, _role: ViewerRole
) -> EvaluateResponse:
    """On a dataset or the model's held-out split: in a worker process with a time limit
    (EVALUATE_TIMEOUT_S); curves at most 1,000 points."""
    holdout = request.split == "holdout"
    return await services.dataset_evaluation.evaluate(
        request.model_id, None if holdout else request.dataset_id
    )


@router.post(
    "/explain",
    response_model=ExplainResponse,
    responses={
        400: {"description": "the model kind cannot explain (the reason)"},
        413: {"description": "over MAX_PREDICT_BATCH texts or MAX_EXPLAIN_CHARS characters"},
    },
)
def explain(request: ExplainRequest, services: ServicesDep, _role: ViewerRole) -> dict[str, Any]:
    """Per text: the label, its score and the `top_k` tokens that pushed it toward the label."""
    return services.explanations.explain(request.model_id, request.texts, request.top_k)


@router.post("/remove", response_model=RemovedResponse)
def remove(request: ModelRef, services: ServicesDep, _role: EditorRole) -> RemovedResponse:
    return RemovedResponse(model_id=services.removal.remove(request.model_id))


@router.post("/remove_all", response_model=RemoveAllResponse)
def remove_all(services: ServicesDep, _role: AdminRole) -> RemoveAllResponse:
    return RemoveAllResponse(removed=services.removal.remove_all())


@router.get("/{model_id}", response_model=ModelInfo)
def get_model(model_id: str, services: ServicesDep, _role: ViewerRole) -> ModelInfo:
    return services.registry.get(model_id)


@router.delete("/{model_id}", response_model=RemovedResponse)
def delete_model(model_id: str, services: ServicesDep, _role: EditorRole) -> RemovedResponse:
    return RemovedResponse(model_id=services.removal.remove(model_id))


@router.post("/{model_id}/promote", response_model=ModelInfo)
def promote(
    model_id: str, request: PromoteRequest, services: ServicesDep, _role: EditorRole
) -> ModelInfo:
    return services.aliases.promote(model_id, request.alias)


@router.get(
    "/{model_id}/threshold",
    response_model=ThresholdInfo,
    responses={400: {"description": "not a binary model"}},
)
def get_threshold(model_id: str, services: ServicesDep, _role: ViewerRole) -> ThresholdInfo:
    """The decision threshold and the held-out precision/recall/flagged rate at every cut."""
    return services.thresholds.info(model_id)


@router.post(
    "/{model_id}/threshold",
    response_model=ModelInfo,
    responses={400: {"description": "not a binary model, or an unreachable target"}},
)
def set_threshold(
    model_id: str, request: ThresholdRequest, services: ServicesDep, _role: EditorRole
) -> ModelInfo:
    """Set the cut directly or from a target precision or recall on held-out data; predict
    uses it at once, and the model's metrics become those at the new cut."""
    return services.thresholds.set(model_id, request)


@router.get(
    "/{model_id}/download",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(model_id: str, services: ServicesDep, _role: AdminRole) -> Response:
    """The whole pipeline as a skops file (no pickle): `skops.io.load` reads it back."""
    payload, filename = services.model_files.portable_file(model_id)
    return Response(
        payload,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/upload",
    response_model=ModelInfo,
    responses={400: {"description": "not a skops classifier, or untrusted types"}},
)
async def upload(
    services: ServicesDep,
    _role: AdminRole,
    file: UploadFile = File(..., description="a skops file of a fitted Pipeline"),
    name: str = Form(..., pattern=NAME_PATTERN),
) -> ModelInfo:
    try:
        payload = await file.read()
    finally:
        await file.close()
    return await run_in_threadpool(services.model_files.upload, payload, name)
