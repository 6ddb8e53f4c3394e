"""Request dependencies: the process's services and the caller's role."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant

from backend.errors import Forbidden, Unauthorized
from backend.services.container import Services
from backend.settings import ROLE_RANK, Settings

# Dependencies are `async def` although they never await: FastAPI runs a plain `def`
# dependency in the thread pool, a round trip that cost a third of a prediction's time.


async def get_services(request: Request) -> Services:
    # app.state is an untyped namespace; create_app's lifespan puts Services there.
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


class TokenTable:
    """Bearer tokens kept as sha256 digests and compared in constant time."""

    def __init__(self, settings: Settings) -> None:
        self._roles = [
            (hashlib.sha256(token.encode()).digest(), role)
            for token, role in settings.tokens_by_role().items()
        ]

    @property
    def open(self) -> bool:
        return not self._roles

    def role_for(self, token: str) -> str | None:
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for known, role in self._roles:  # no early exit: timing says nothing about matches
            if hmac.compare_digest(known, digest):
                found = role
        return found

    def role_of(self, authorization: str) -> str:
        """The role an `Authorization` header carries (admin when the service is open)."""
        if self.open:
            return "admin"
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token; send Authorization: Bearer <token>")
        role = self.role_for(token.strip())
        if role is None:
            raise Unauthorized("unknown token; check API_TOKENS on the server")
        return role

    def check(self, authorization: str, needed: str) -> str:
        """The caller's role, if it is at least `needed` (401/403 otherwise)."""
        return check_role(self.role_of(authorization), needed)

    def logged_role(self, role: str) -> str | None:
        """The role the prediction log records: None when the service runs open."""
        return None if self.open else role


def check_role(actual: str, needed: str) -> str:
    if ROLE_RANK[actual] < ROLE_RANK[needed]:
        raise Forbidden(f"this route needs the {needed} role; your token has {actual}")
    return actual


async def caller_role(request: Request) -> str:
    """The caller's role from `Authorization: Bearer <token>` (admin when the service is open)."""
    table: TokenTable = request.app.state.tokens
    return table.role_of(request.headers.get("authorization", ""))


async def service_is_open(request: Request) -> bool:
    """True when no token is configured: every caller acts as admin."""
    table: TokenTable = request.app.state.tokens
    return table.open


def require(role: str) -> Callable[..., Awaitable[str]]:
    async def check(actual: Annotated[str, Depends(caller_role)]) -> str:
        return check_role(actual, role)

    check.required_role = role  # type: ignore[attr-defined]  # read by the request gate
    return check


def required_role_of(dependant: Dependant) -> str | None:
    """The highest role a route's dependencies require (`viewer` for any valid token)."""
    needed: str | None = None
    for dependency in dependant.dependencies:
        if dependency.call is caller_role:
            found: str | None = "viewer"
        else:
            found = getattr(dependency.call, "required_role", None) or required_role_of(dependency)
        if found is not None and (needed is None or ROLE_RANK[found] > ROLE_RANK[needed]):
            needed = found
    return needed


ViewerRole = Annotated[str, Depends(require("viewer"))]


async def logged_viewer(request: Request, role: ViewerRole) -> str | None:
    """A viewer's role as the prediction log records it (None when the service runs open)."""
    table: TokenTable = request.app.state.tokens
    return table.logged_role(role)


LoggedViewer = Annotated[str | None, Depends(logged_viewer)]
EditorRole = Annotated[str, Depends(require("editor"))]
AdminRole = Annotated[str, Depends(require("admin"))]
