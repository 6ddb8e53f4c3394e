"""Server-made ids: short, opaque, safe in URLs and file names."""

from __future__ import annotations

import re
import secrets

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def is_safe_id(value: str) -> bool:
    return bool(SAFE_ID.fullmatch(value))
