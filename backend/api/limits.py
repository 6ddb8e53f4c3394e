"""Request body limits, enforced before a body is read into memory or parsed."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import PayloadTooLarge, error_payload

UPLOAD_PATHS = ("/api/v1/datasets", "/api/v1/datasets/preview", "/api/v1/models/upload")


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """413 for bodies over the limit: uploads get MAX_UPLOAD_MB, other requests `json_limit`."""

    def __init__(self, app: ASGIApp, upload_limit: int, json_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit + 1024 * 1024  # room for multipart framing
        self.json_limit = json_limit
        self._upload_setting = f"MAX_UPLOAD_MB={upload_limit / (1024 * 1024):g}"
        self._json_setting = f"MAX_JSON_BODY_MB={json_limit / (1024 * 1024):g}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        is_upload = scope["path"].rstrip("/") in UPLOAD_PATHS
        limit = self.upload_limit if is_upload else self.json_limit
        setting = self._upload_setting if is_upload else self._json_setting
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > limit:
                await _reject(send, setting)
                return
            # The HTTP server delivers no more than the declared length: nothing to count.
            await self.app(scope, receive, send)
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

        rejected = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, rejected
            if rejected:
                return
            if message["type"] == "http.response.start":
                if received > limit:  # the app turned our BodyTooLarge into its own 400
                    rejected = True
                    await _reject(send, setting)
                    return
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started and not rejected:
                await _reject(send, setting)
        except Exception as exc:  # a parser wrapping our BodyTooLarge
            if received > limit and not started:
                if not rejected:
                    await _reject(send, setting)
                return
            raise exc


async def _reject(send: Send, setting: str) -> None:
    status, body = error_payload(
        PayloadTooLarge(f"request body is over the server's limit ({setting})")
    )
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
