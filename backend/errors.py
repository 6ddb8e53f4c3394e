"""The backend's exception hierarchy, each class mapped to one HTTP status.

    AppError (500)
    ├── BadRequest (400)
    │   ├── DatasetInvalid
    │   └── UntrustedModelFile
    ├── Unauthorized (401)
    ├── Forbidden (403)
    │   └── DefaultModelProtected
    ├── NotFound (404)
    │   ├── DatasetNotFound
    │   ├── ModelNotFound
    │   └── TaskNotFound
    ├── Conflict (409)
    │   ├── ModelNotLoaded
    │   ├── ModelNotTrained
    │   ├── TooManyLoaded
    │   └── TaskAlreadyEnded
    ├── PayloadTooLarge (413)
    ├── Unprocessable (422)
    ├── QueueFull (429)
    ├── ServiceUnavailable (503)
    └── InsufficientStorage (507)

Services raise these; `install_error_handlers` turns them into `{"detail": ...}` responses.
"""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)


class AppError(Exception):
    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(AppError):
    status_code = 400


class DatasetInvalid(BadRequest):
    pass


class UntrustedModelFile(BadRequest):
    pass


class Unauthorized(AppError):
    status_code = 401


class Forbidden(AppError):
    status_code = 403


class DefaultModelProtected(Forbidden):
    pass


class NotFound(AppError):
    status_code = 404


class DatasetNotFound(NotFound):
    def __init__(self, dataset_id: str) -> None:
        super().__init__(f"dataset {dataset_id!r} not found; GET /api/v1/datasets lists them")


class ModelNotFound(NotFound):
    def __init__(self, model_id: str) -> None:
        super().__init__(f"model {model_id!r} not found; GET /api/v1/models/ lists them")


class TaskNotFound(NotFound):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id!r} not found; GET /api/v1/tasks/ lists them")


class Conflict(AppError):
    status_code = 409


class ModelNotLoaded(Conflict):
    def __init__(self, model_id: str) -> None:
        super().__init__(
            f"model {model_id!r} is not loaded; POST /api/v1/models/load with its id first"
        )


class ModelNotTrained(Conflict):
    pass


class TooManyLoaded(Conflict):
    pass


class TaskAlreadyEnded(Conflict):
    pass


class PayloadTooLarge(AppError):
    status_code = 413


class Unprocessable(AppError):
    status_code = 422


class QueueFull(AppError):
    status_code = 429


class ServiceUnavailable(AppError):
    status_code = 503


class InsufficientStorage(AppError):
    status_code = 507


def _respond(exc: AppError) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return _respond(exc)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        # A full or read-only disk is the operator's to fix: say so instead of a bare 500.
        log.exception("storage error on %s %s", request.method, request.url.path)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return _respond(InsufficientStorage(
                "the server's disk is full; free space or raise the quota"))
        return _respond(ServiceUnavailable(
            f"storage is not usable ({exc.strerror or type(exc).__name__}); "
            "check that DATA_DIR and MODELS_DIR are writable"))

    @app.exception_handler(OperationalError)
    async def _database_error(request: Request, exc: OperationalError) -> JSONResponse:
        log.exception("database error on %s %s", request.method, request.url.path)
        reason = str(exc.orig).lower()
        if "disk is full" in reason or "no space" in reason:
            return _respond(InsufficientStorage(
                "the database's disk is full; free space or raise the quota"))
        return _respond(ServiceUnavailable(
            "the database is not available right now; retry shortly"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": "internal error; the server log has the details"}, status_code=500
        )
