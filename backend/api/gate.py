"""The request gate: what is refused before a body is read.

- A protected route's token is checked first: a caller without a valid token (or with a
  role too low) gets 401/403 before any byte of the body is read or parsed, so an anonymous
  60 MB body costs nothing and a 422 never echoes input back to an anonymous caller.
- NUL characters in the path or query string are refused with 400: PostgreSQL cannot store
  them, and SQLite must answer the same.

The route's role comes from its own dependencies (`require(role)` in `deps.py`), so the rule
lives in one place and the route-level check stays as a second line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.api.deps import TokenTable, check_role, required_role_of
from backend.errors import AppError, BadRequest, error_payload

# Where the checked role is left in the request's state for the layers below.
CALLER_ROLE = "caller_role"
# Routes without path parameters are looked up once per (method, path).
_CACHE_LIMIT = 256


class RequestGate:
    def __init__(self, app: ASGIApp, routers: Sequence[APIRouter]) -> None:
        self.app = app
        # The routers' own routes: their paths are whole (each router carries its prefix).
        self.routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
        self._exact: dict[tuple[str, str], tuple[APIRoute | None, str | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        route, needed = self._match(scope)
        try:
            if needed is not None:
                if route is not None:
                    scope["route"] = route  # metrics count the refusal under its template
                tokens: TokenTable = scope["app"].state.tokens
                authorization = dict(scope["headers"]).get(b"authorization", b"")
                role = check_role(tokens.role_of(authorization.decode("latin-1")), needed)
                scope.setdefault("state", {})[CALLER_ROLE] = role  # the fast path reuses it
            if _has_nul(scope):
                raise BadRequest(
                    "the URL holds a NUL (\\x00) character; ids, names and query values "
                    "cannot contain it"
                )
        except AppError as exc:
            await _respond(send, exc)
            return
        await self.app(scope, receive, send)

    def _match(self, scope: Scope) -> tuple[APIRoute | None, str | None]:
        key = (scope["method"], scope["path"])
        found = self._exact.get(key)
        if found is not None:
            return found
        for route in self.routes:
            match, _child = route.matches(scope)
            if match is Match.FULL:
                found = (route, required_role_of(route.dependant))
                if not route.param_convertors and len(self._exact) < _CACHE_LIMIT:
                    self._exact[key] = found
                return found
        return None, None


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"\x00" in query or b"%00" in query


async def _respond(send: Send, exc: AppError) -> None:
    status, body = error_payload(exc)
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if exc.status_code == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
