"""Collection routes answer with and without a trailing slash, without redirects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


def collection(router: APIRouter, method: str, **kwargs: Any) -> Callable[[Any], Any]:
    """Register a handler on both `""` and `"/"` of `router`; only `/` goes in the schema."""

    def decorator(func: Any) -> Any:
        router.add_api_route("", func, methods=[method], include_in_schema=False, **kwargs)
        router.add_api_route("/", func, methods=[method], **kwargs)
        return func

    return decorator
