"""A fast path for the two hot routes, `POST /api/v1/models/predict` and `/predict_scores`.

A well-formed request is answered here, below FastAPI's routing, dependency solving and
response validation, which together cost more than the prediction itself. Anything that is
not plainly well-formed (wrong types, extra keys, bad JSON) is handed on untouched to the
FastAPI route, so validation errors, the OpenAPI document and every other behaviour stay
exactly those of the declared route. Auth, limits and the prediction log are the same code.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.deps import TokenTable, check_role
from backend.errors import AppError

log = logging.getLogger(__name__)

KINDS = {"/api/v1/models/predict": "predict", "/api/v1/models/predict_scores": "scores"}
ROUTES = {path: SimpleNamespace(path=path) for path in KINDS}  # what /metrics labels by
MAX_MODEL_REF = 200


def well_formed(body: Any) -> bool:
    """True when FastAPI's validation of PredictRequest would accept `body` as it is."""
    if not isinstance(body, dict) or body.keys() != {"model_id", "texts"}:
        return False
    model_id, texts = body["model_id"], body["texts"]
    return (
        isinstance(model_id, str) and 0 < len(model_id) <= MAX_MODEL_REF
        and isinstance(texts, list) and len(texts) > 0
        and all(isinstance(text, str) for text in texts)
    )


class FastPredict:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = KINDS.get(scope["path"]) if scope["type"] == "http" else None
        if kind is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        if not well_formed(body):
            await self.app(scope, _replay(raw, receive), send)
            return
        scope["route"] = ROUTES[scope["path"]]
        status, answer = await self._answer(scope, kind, body)
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer)).encode()),
        ]})
        await send({"type": "http.response.body", "body": answer})

    async def _answer(self, scope: Scope, kind: str, body: dict[str, Any]) -> tuple[int, bytes]:
        app = scope["app"]
        services = app.state.services
        try:
            tokens: TokenTable = app.state.tokens
            headers = dict(scope["headers"])
            role = check_role(tokens.role_of(headers.get(b"authorization", b"").decode()),
                              "viewer")
            answer = await services.models.serve(
                kind, body["model_id"], body["texts"], None if tokens.open else role
            )
            return 200, orjson.dumps(answer)
        except AppError as exc:
            return exc.status_code, orjson.dumps({"detail": exc.detail})
        except Exception:
            log.exception("prediction failed")
            return 500, orjson.dumps({"detail": "internal error; the server log has the details"})


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
