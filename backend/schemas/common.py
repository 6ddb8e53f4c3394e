"""Shared schema pieces: UTC timestamps with a `Z` suffix, label values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, PlainSerializer


def iso_z(moment: datetime) -> str:
    """ISO 8601 UTC with a `Z` suffix and milliseconds, so timestamps sort as strings."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


UtcTime = Annotated[datetime, PlainSerializer(iso_z, return_type=str, when_used="json")]


def refuse_nul(value: str) -> str:
    """PostgreSQL cannot store NUL characters; refuse them on every database alike."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\x00) characters")
    return value


# A string that may reach the database: ids, names, labels.
NoNulStr = Annotated[str, AfterValidator(refuse_nul)]
Label = int | str


class ErrorDetail(BaseModel):
    """Every error answer: what went wrong and how to fix it (422 may keep FastAPI's list)."""

    detail: str | list[dict[str, Any]]


# Documented on every route: any route may refuse a caller (401/403), a body (413), or fail on
# storage (503/507); services raise the other 4xx. See backend/errors.py.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorDetail, "description": "client error; `detail` says what to fix"},
    503: {"model": ErrorDetail, "description": "storage or a dependency is not usable"},
    507: {"model": ErrorDetail, "description": "the server's disk is full"},
}
