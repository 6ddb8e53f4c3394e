"""/api/v1/datasets: upload, preview, list, get, delete."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from backend.api.deps import EditorRole, ServicesDep, ViewerRole
from backend.api.routing import collection
from backend.schemas.datasets import PREVIEW_MAX_ROWS, DatasetInfo, DatasetPreview

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])


@collection(
    router,
    "POST",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetInfo,
    responses={
        400: {"description": "unreadable file or unusable columns"},
        413: {"description": "over MAX_UPLOAD_MB"},
    },
)
async def upload_dataset(
    services: ServicesDep,
    _role: EditorRole,
    file: UploadFile = File(..., description="CSV file"),
    name: str | None = Form(None),
    text_column: str | None = Form(None),
    label_column: str | None = Form(None),
    positive_label: str | None = Form(None),
    label_names: str | None = Form(
        None, description='what labels mean, a JSON object: {"0": "not toxic", "1": "toxic"}'
    ),
) -> DatasetInfo:
    try:
        return await run_in_threadpool(
            services.datasets.create,
            file.file,
            filename=file.filename,
            name=name,
            text_column=text_column,
            label_column=label_column,
            positive_label=positive_label,
            label_names=label_names,
        )
    finally:
        await file.close()


@router.post(
    "/preview",
    response_model=DatasetPreview,
    responses={
        400: {"description": "unreadable file (encoding, columns, rows, not a CSV)"},
        413: {"description": "over MAX_UPLOAD_MB"},
    },
)
async def preview_dataset(
    services: ServicesDep,
    _role: EditorRole,
    file: UploadFile = File(..., description="CSV file, as for upload"),
    text_column: str | None = Form(None),
    label_column: str | None = Form(None),
    positive_label: str | None = Form(None),
    label_names: str | None = Form(None),
    head: int = Form(
        20,
        ge=0,
        le=PREVIEW_MAX_ROWS,
        description="how many of the file's first rows to return",
    ),
) -> DatasetPreview:
    """What upload would store from this file (same code, same limits); nothing is stored."""
    try:
        return await run_in_threadpool(
            services.datasets.preview,
            file.file,
            filename=file.filename,
            text_column=text_column,
            label_column=label_column,
            positive_label=positive_label,
            label_names=label_names,
            head=head,
        )
    finally:
        await file.close()


@collection(router, "GET", response_model=list[DatasetInfo])
def list_datasets(services: ServicesDep, _role: ViewerRole) -> list[DatasetInfo]:
    return services.datasets.list()


@router.get("/{dataset_id}", response_model=DatasetInfo)
def get_dataset(dataset_id: str, services: ServicesDep, _role: ViewerRole) -> DatasetInfo:
    return services.datasets.get(dataset_id)


@router.get(
    "/{dataset_id}/download",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def download_dataset(dataset_id: str, services: ServicesDep, _role: ViewerRole) -> FileResponse:
    """The stored rows as a UTF-8 CSV with columns `text,label` (empty rows already dropped)."""
    row = services.datasets.row(dataset_id)
    return FileResponse(
        services.datasets.path(row), media_type="text/csv", filename=f"{row.id}.csv"
    )


@router.delete("/{dataset_id}")
def delete_dataset(dataset_id: str, services: ServicesDep, _role: EditorRole) -> dict[str, object]:
    services.datasets.delete(dataset_id)
    return {"id": dataset_id, "deleted": True}
