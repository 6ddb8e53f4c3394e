"""Request body limits, enforced before a body is read into memory or parsed."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PATHS = ("/api/v1/datasets", "/api/v1/models/upload")


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """413 for bodies over the limit: uploads get MAX_UPLOAD_MB, other requests `json_limit`."""

    def __init__(self, app: ASGIApp, upload_limit: int, json_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit + 1024 * 1024  # room for multipart framing
        self.json_limit = json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/")
        limit = self.upload_limit if path in UPLOAD_PATHS else self.json_limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reject(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _reject(send, limit)
        except Exception as exc:  # a parser wrapping our BodyTooLarge
            if received > limit and not started:
                await _reject(send, limit)
                return
            raise exc


async def _reject(send: Send, limit: int) -> None:
    import json

    body = json.dumps(
        {"detail": f"request body is over the limit of {limit // (1024 * 1024)} MB"}
    ).encode()
    headers: list[Any] = [(b"content-type", b"application/json"),
                          (b"content-length", str(len(body)).encode()),
                          (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
