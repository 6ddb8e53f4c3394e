"""Shared schema pieces: UTC timestamps with a `Z` suffix, label values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer


def iso_z(moment: datetime) -> str:
    """ISO 8601 UTC with a `Z` suffix and milliseconds, so timestamps sort as strings."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


UtcTime = Annotated[datetime, PlainSerializer(iso_z, return_type=str, when_used="json")]
Label = int | str
