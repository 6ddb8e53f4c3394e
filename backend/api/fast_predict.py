"""A fast path for the hot routes: predict, predict_scores and MLflow-style invocations.

Requests are answered here, below FastAPI's routing, dependency solving and response
validation, which together cost more than the prediction itself. Nothing here is a second
copy of a rule: the body is validated by the route's own pydantic model, the token by the
same `TokenTable`, errors are answered by `backend.errors.error_payload` (which the FastAPI
handlers use too), and whatever this layer does not accept as it is — another content type,
a body the model rejects — goes on untouched to the declared route, so that validation errors
and the OpenAPI document are exactly the route's. `tests/backend/test_fast_path_parity.py`
sends the same requests with this layer on and off and expects identical answers.
"""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.deps import TokenTable
from backend.api.gate import CALLER_ROLE
from backend.errors import AppError, error_payload
from backend.schemas.models import PredictRequest
from backend.services.invocations import answer_invocation

PREDICT_KINDS = {"/api/v1/models/predict": "predict", "/api/v1/models/predict_scores": "scores"}
INVOCATIONS = re.compile(r"^/api/v1/models/(?P<ref>[^/]+)/invocations$")
# What /metrics labels requests by (the route templates FastAPI would report).
ROUTES = {path: SimpleNamespace(path=path) for path in PREDICT_KINDS}
INVOCATIONS_ROUTE = SimpleNamespace(path="/api/v1/models/{model_ref}/invocations")

log = logging.getLogger(__name__)


def _is_json(scope: Scope) -> bool:
    """A JSON content type in its plain spelling; anything else is the route's to judge."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"application/json")
    return False


class FastPredict:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        kind = PREDICT_KINDS.get(path)
        invocation = None if kind else INVOCATIONS.match(path)
        if (kind is None and invocation is None) or not scope["app"].state.settings.fast_predict:
            await self.app(scope, receive, send)
            return
        if kind is not None and not _is_json(scope):
            await self.app(scope, receive, send)
            return
        scope["route"] = ROUTES[path] if kind else INVOCATIONS_ROUTE
        try:
            role = self._viewer_role(scope)  # before the body is read, as the routes do
            raw = await _read_body(receive)
            if raw is None:
                return  # the client went away
            if kind is not None:
                answer = await self._predict(scope, kind, raw, role)
                if answer is None:  # not valid as it is: the route gives the exact 422
                    await self.app(scope, _replay(raw, receive), send)
                    return
            else:
                assert invocation is not None
                answer = await answer_invocation(
                    scope["app"].state.services,
                    invocation["ref"],
                    _header(scope, b"content-type"),
                    raw,
                    role,
                )
            status, body = 200, orjson.dumps(answer)
            scope["app"].state.metrics.fast_path_answers.inc()
        except Exception as exc:
            if not isinstance(exc, AppError):  # as the FastAPI handlers log it
                log.exception("error on POST %s", path)
            status, body = error_payload(exc)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _viewer_role(scope: Scope) -> str | None:
        """The role the prediction log records; the gate above has checked the token."""
        tokens: TokenTable = scope["app"].state.tokens
        role = scope.get("state", {}).get(CALLER_ROLE)
        if role is None:
            role = tokens.check(_header(scope, b"authorization") or "", needed="viewer")
        return tokens.logged_role(role)

    @staticmethod
    async def _predict(
        scope: Scope, kind: str, raw: bytes, role: str | None
    ) -> dict[str, Any] | None:
        try:
            request = PredictRequest.model_validate_json(raw)
        except ValidationError:
            return None
        services = scope["app"].state.services
        answer: dict[str, Any] = await services.predictions.serve(
            kind, request.model_id, request.texts, role
        )
        return answer


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(raw: bytes, receive: Receive) -> Receive:
    """Give the already-read body once, then the connection's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay
