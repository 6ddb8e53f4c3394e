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
    ├── UnsupportedMediaType (415)
    ├── Unprocessable (422)
    ├── QueueFull (429)
    ├── ServiceUnavailable (503)
    └── InsufficientStorage (507)

Services raise these; `install_error_handlers` turns them into `{"detail": ...}` responses.
"""

from __future__ import annotations

import errno
import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.types import Send

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


class UnsupportedMediaType(AppError):
    status_code = 415


class Unprocessable(AppError):
    status_code = 422


class QueueFull(AppError):
    status_code = 429


class ServiceUnavailable(AppError):
    status_code = 503


class InsufficientStorage(AppError):
    status_code = 507


def as_app_error(exc: Exception) -> AppError:
    """The typed error any exception answers as: the one mapping every layer uses.

    The FastAPI handlers, the fast predict path and the body-size middleware all answer
    through this, so a given failure gets the same status and `detail` on every path.
    """
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, OSError):
        # A full or read-only disk is the operator's to fix: say so instead of a bare 500.
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return InsufficientStorage("the server's disk is full; free space or raise the quota")
        return ServiceUnavailable(
            f"storage is not usable ({exc.strerror or type(exc).__name__}); "
            "check that DATA_DIR and MODELS_DIR are writable"
        )
    if isinstance(exc, OperationalError):
        reason = str(exc.orig).lower()
        if "disk is full" in reason or "no space" in reason:
            return InsufficientStorage("the database's disk is full; free space or raise the quota")
        return ServiceUnavailable("the database is not available right now; retry shortly")
    if isinstance(exc, DataError):
        # The database refused a value the client sent (a NUL character, a number out of
        # range): validation should have caught it first, but it is the client's to fix.
        return BadRequest(
            "a value in the request cannot be stored (a NUL character or a number out of "
            "range?); remove it and retry"
        )
    return AppError("internal error; the server log has the details")


def error_payload(exc: Exception) -> tuple[int, bytes]:
    """Status and JSON body (`{"detail": ...}`) of the answer to `exc`."""
    error = as_app_error(exc)
    return error.status_code, orjson.dumps({"detail": error.detail})


def error_headers(status: int, body: bytes, *, close: bool = False) -> list[tuple[bytes, bytes]]:
    """The headers of every error answer, whichever layer sends it."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if close:  # the rest of an over-limit body is not read: the connection cannot be reused
        headers.append((b"connection", b"close"))
    return headers


def error_response(exc: Exception) -> Response:
    """The answer to `exc` from a FastAPI exception handler."""
    status, body = error_payload(exc)
    response = Response(body, status_code=status, media_type="application/json")
    for name, value in error_headers(status, body)[2:]:
        response.headers[name.decode()] = value.decode()
    return response


async def send_error(send: Send, exc: Exception, *, close: bool = False) -> int:
    """The answer to `exc` from a raw ASGI layer (gate, body limit, fast path); its status."""
    status, body = error_payload(exc)
    headers = error_headers(status, body, close=close)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status


def install_error_handlers(app: FastAPI) -> None:
    async def expected(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, AppError):  # storage or database trouble: the operator's to see
            log.exception("%s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(exc)

    # Registered per class so that Starlette's ExceptionMiddleware answers them (inside the
    # metrics middleware, without re-raising); only real bugs reach the catch-all below.
    for handled in (AppError, OSError, OperationalError, DataError):
        app.add_exception_handler(handled, expected)

    async def invalid(_request: Request, exc: Exception) -> Response:
        # FastAPI's own 422 answer echoes each error's input: a NaN, an Infinity or an integer
        # past 64 bits in a body (all valid to Python's parser) made that echo a 500, and a
        # 60 MB body came back whole. The list keeps where and what, without the input.
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        detail = [{k: v for k, v in error.items() if k != "input"} for error in errors]
        return Response(
            orjson.dumps({"detail": jsonable_encoder(detail)}, default=str),
            status_code=422,
            media_type="application/json",
        )

    app.add_exception_handler(RequestValidationError, invalid)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(exc)
