"""Request dependencies: the process's services and the caller's role."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from backend.errors import Forbidden, Unauthorized
from backend.services.container import Services
from backend.settings import ROLE_RANK, Settings


def get_services(request: Request) -> Services:
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


def caller_role(request: Request) -> str:
    """The caller's role from `Authorization: Bearer <token>` (admin when the service is open)."""
    table: TokenTable = request.app.state.tokens
    if table.open:
        return "admin"
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token; send Authorization: Bearer <token>")
    role = table.role_for(token.strip())
    if role is None:
        raise Unauthorized("unknown token; check API_TOKENS on the server")
    request.state.role = role
    return role


def require(role: str) -> Callable[..., str]:
    def check(actual: Annotated[str, Depends(caller_role)]) -> str:
        if ROLE_RANK[actual] < ROLE_RANK[role]:
            raise Forbidden(f"this route needs the {role} role; your token has {actual}")
        return actual

    return check


ViewerRole = Annotated[str, Depends(require("viewer"))]
EditorRole = Annotated[str, Depends(require("editor"))]
AdminRole = Annotated[str, Depends(require("admin"))]
