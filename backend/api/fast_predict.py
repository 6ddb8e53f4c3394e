"""A fast path for the hot routes: predict, predict_scores and MLflow-style invocations.

These requests are answered in front of FastAPI's middleware stack, routing, dependency
solving and response validation, which together cost more than a prediction. Nothing here
is a second copy of a rule; each is applied by the object that holds it:

- the body limit and its 413 by `BodyLimits` (limits.py), as the body-size middleware does;
- the route's role, the token and the NUL check by `RouteGate` (gate.py), as the gate does;
- the body by the route's own pydantic model, `PredictRequest`;
- errors by `send_error` (errors.py), which the middlewares and FastAPI handlers share;
- request metrics by `AppMetrics.observe`, as the metrics middleware does.

Whatever this layer does not accept as it is (another content type, a body the model
rejects, a cross-origin request when CORS is on) goes on untouched through the whole stack
to the declared route, so that 422s, CORS headers and the OpenAPI document are exactly the
route's. `tests/backend/test_fast_path_parity.py` sends the same requests with this layer on
and off and expects identical answers.
"""

from __future__ import annotations

import logging
import re
import time

import orjson
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.gate import RouteGate
from backend.api.limits import BodyLimits, BodyTooLarge, read_body
from backend.errors import AppError, send_error
from backend.schemas.models import PredictRequest
from backend.services.invocations import answer_invocation

PREDICT_KINDS = {"/api/v1/models/predict": "predict", "/api/v1/models/predict_scores": "scores"}
INVOCATIONS = re.compile(r"^/api/v1/models/(?P<ref>[^/]+)/invocations$")
# The request headers this layer reads; it scans the list once.
WANTED = frozenset({b"content-type", b"content-length", b"authorization", b"origin"})

log = logging.getLogger(__name__)


class FastPredict:
    def __init__(
        self,
        app: FastAPI,
        stack: ASGIApp,
        *,
        gate: RouteGate,
        limits: BodyLimits,
        cors: bool,
    ) -> None:
        """`stack` is the whole app behind this layer; `cors` whether CORS origins are set."""
        self.app = app
        self.stack = stack
        self.gate = gate
        self.limits = limits
        self.cors = cors
        # kind → (route, role it needs), from the gate on the first request of each kind.
        self._routes: dict[str, tuple[APIRoute | None, str | None]] = {}

    def _kind(self, scope: Scope) -> str | None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        kind = PREDICT_KINDS.get(path)
        if kind is None and path.endswith("/invocations") and INVOCATIONS.match(path):
            kind = "invocations"
        if kind is None or not self.app.state.settings.fast_predict:
            return None
        return kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self._kind(scope)
        if kind is None:
            await self.stack(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in WANTED:
                headers.setdefault(name, value)  # the first of repeated headers, as Starlette
        if (self.cors and b"origin" in headers) or (
            kind != "invocations" and not _is_json(headers.get(b"content-type"))
        ):
            await self.stack(scope, receive, send)
            return
        scope["app"] = self.app
        started = time.perf_counter()
        route, needed = self._route(kind, scope)
        status = await self._answer(kind, scope, receive, send, headers, needed)
        if status is not None and route is not None:
            self.app.state.metrics.observe(
                route.path, "POST", status, time.perf_counter() - started
            )

    def _route(self, kind: str, scope: Scope) -> tuple[APIRoute | None, str | None]:
        found = self._routes.get(kind)
        if found is None:
            found = self._routes[kind] = self.gate.match(scope)
        return found

    async def _answer(
        self,
        kind: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, bytes],
        needed: str | None,
    ) -> int | None:
        """Answer the request; its status, or None when the stack answered it instead."""
        limit, setting = self.limits.limit_for(scope["path"])
        if self.limits.declared_over(headers.get(b"content-length"), limit):
            return await self.limits.refuse(send, setting)
        try:
            role = self.gate.admit(scope, needed, headers.get(b"authorization", b""))
            raw = await read_body(receive, limit)
        except BodyTooLarge:
            return await self.limits.refuse(send, setting)
        except AppError as exc:
            return await send_error(send, exc)
        if raw is None:
            return None  # the client went away
        services = self.app.state.services
        logged = None if role is None else self.app.state.tokens.logged_role(role)
        try:
            if kind == "invocations":
                match = INVOCATIONS.match(scope["path"])
                assert match is not None
                content_type = headers.get(b"content-type")
                answer = await answer_invocation(
                    services,
                    match["ref"],
                    None if content_type is None else content_type.decode("latin-1"),
                    raw,
                    logged,
                )
            else:
                try:
                    request = PredictRequest.model_validate_json(raw)
                except ValidationError:  # the route gives the exact 422
                    await self.stack(scope, _replay(raw, receive), send)
                    return None
                answer = await services.predictions.serve(
                    kind, request.model_id, request.texts, logged
                )
            body = orjson.dumps(answer)
        except Exception as exc:
            if not isinstance(exc, AppError):  # as the FastAPI handlers log it
                log.exception("error on POST %s", scope["path"])
            return await send_error(send, exc)
        self.app.state.metrics.fast_path_answers.inc()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return 200


def _is_json(content_type: bytes | None) -> bool:
    """A JSON content type in its plain spelling; anything else is the route's to judge."""
    if content_type is None:
        return False
    return content_type.split(b";", 1)[0].strip().lower() == b"application/json"


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
