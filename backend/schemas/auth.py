"""Answers about the caller's identity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class WhoAmI(BaseModel):
    role: Literal["viewer", "editor", "admin"] | None = Field(
        description="the token's role; null when the service runs open (no API_TOKENS)"
    )
    open: bool = Field(description="true when the service has no tokens and everyone is admin")
