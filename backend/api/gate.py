"""The request gate: what is refused before a body is read.

- A protected route's token is checked first: a caller without a valid token (or with a
  role too low) gets 401/403 before any byte of the body is read or parsed, so an anonymous
  60 MB body costs nothing and a 422 never echoes input back to an anonymous caller.
- NUL characters in the path or query string are refused with 400: PostgreSQL cannot store
  them, and SQLite must answer the same.

The route's role comes from its own dependencies (`require(role)` in `deps.py`), so the rule
lives in one place and the route-level check stays as a second line. `RouteGate` holds the
rule; the `RequestGate` middleware and the fast predict path (fast_predict.py) both apply it.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.api.deps import TokenTable, check_role, required_role_of
from backend.errors import AppError, BadRequest, send_error

# Where the checked role is left in the request's state for the layers below.
CALLER_ROLE = "caller_role"
# Routes without path parameters are looked up once per (method, path).
_CACHE_LIMIT = 256


class RouteGate:
    """Which route a request is for, the role it needs, and whether the caller has it."""

    def __init__(self, routers: Sequence[APIRouter], tokens: TokenTable) -> None:
        # The routers' own routes: their paths are whole (each router carries its prefix).
        self.routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
        self.tokens = tokens
        self._exact: dict[tuple[str, str], tuple[APIRoute | None, str | None]] = {}

    def match(self, scope: Scope) -> tuple[APIRoute | None, str | None]:
        """The route `scope` is for and the role it needs (None: open), or (None, None)."""
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

    def route(self, method: str, template: str) -> tuple[APIRoute, str | None]:
        """The route declared as `method template` and the role it needs."""
        for route in self.routes:
            if route.path == template and method in (route.methods or ()):
                return route, required_role_of(route.dependant)
        raise LookupError(f"no route {method} {template}")

    def admit(self, scope: Scope, needed: str | None, authorization: bytes) -> str | None:
        """The caller's role (None for an open route); AppError (401/403/400) to refuse."""
        role = None
        if needed is not None:
            role = check_role(self.tokens.role_of(authorization.decode("latin-1")), needed)
            scope.setdefault("state", {})[CALLER_ROLE] = role
        if _has_nul(scope):
            raise BadRequest(
                "the URL holds a NUL (\\x00) character; ids, names and query values "
                "cannot contain it"
            )
        return role


class RequestGate:
    def __init__(self, app: ASGIApp, gate: RouteGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        route, needed = self.gate.match(scope)
        if needed is not None and route is not None:
            scope["route"] = route  # metrics count a refusal under its template
        try:
            self.gate.admit(scope, needed, dict(scope["headers"]).get(b"authorization", b""))
        except AppError as exc:
            await send_error(send, exc)
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"\x00" in query or b"%00" in query
