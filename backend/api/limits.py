"""Request body limits, enforced before a body is read into memory or parsed.

`BodyLimits` holds the rule (which limit a request has, and the 413 that refuses it); the
`BodySizeLimit` middleware and the fast predict path (fast_predict.py) both apply it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import PayloadTooLarge, send_error

UPLOAD_PATHS = ("/api/v1/datasets", "/api/v1/datasets/preview", "/api/v1/models/upload")


class BodyTooLarge(Exception):
    pass


class BodyLimits:
    """Uploads get MAX_UPLOAD_MB (plus room for multipart framing), other requests
    MAX_JSON_BODY_MB."""

    def __init__(self, upload_limit: int, json_limit: int) -> None:
        self.upload_limit = upload_limit + 1024 * 1024
        self.json_limit = json_limit
        self._upload_setting = f"MAX_UPLOAD_MB={upload_limit / (1024 * 1024):g}"
        self._json_setting = f"MAX_JSON_BODY_MB={json_limit / (1024 * 1024):g}"

    def limit_for(self, path: str) -> tuple[int, str]:
        """The byte limit of a request to `path` and the setting that sets it."""
        if path.rstrip("/") in UPLOAD_PATHS:
            return self.upload_limit, self._upload_setting
        return self.json_limit, self._json_setting

    @staticmethod
    def declared_over(declared: bytes | None, limit: int) -> bool | None:
        """Whether a Content-Length is over `limit`; None when there is no usable one."""
        if declared is None or not declared.isdigit():
            return None
        return int(declared) > limit

    @staticmethod
    async def refuse(send: Send, setting: str) -> int:
        return await send_error(
            send,
            PayloadTooLarge(f"request body is over the server's limit ({setting})"),
            close=True,
        )


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when the client went away; BodyTooLarge past `limit`."""
    chunks = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


class BodySizeLimit:
    """413 for bodies over their limit (`BodyLimits`)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit, setting = self.limits.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        over = self.limits.declared_over(declared, limit)
        if over:
            await self.limits.refuse(send, setting)
            return
        if over is not None:
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
                    await self.limits.refuse(send, setting)
                    return
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started and not rejected:
                await self.limits.refuse(send, setting)
        except Exception as exc:  # a parser wrapping our BodyTooLarge
            if received > limit and not started:
                if not rejected:
                    await self.limits.refuse(send, setting)
                return
            raise exc
