"""What a fit accepts, as JSON Schemas generated from `ml/params.py` and the fit request.

Clients build their forms from this (GET /api/v1/model_types), so a model type registered in
`PARAMS_BY_TYPE`, or a vectorizer option added to `VectorizerParams`, reaches every client
without a second copy of its parameters, defaults, bounds or help texts.
"""

from __future__ import annotations

import functools
import typing
from typing import Any

from backend.ml.params import PARAMS_BY_TYPE, VectorizerParams, validate_vectorizer
from backend.schemas.model_types import ModelTypeInfo, ModelTypesResponse
from backend.schemas.models import FitRequest

SPLIT_FIELDS = ("test_size", "random_state")


def model_type_infos() -> list[ModelTypeInfo]:
    """Per model type: its title and description (the schema class's docstring: first line,
    rest) and the JSON Schema of its `params`."""
    infos = []
    for name, params in PARAMS_BY_TYPE.items():
        title, _, rest = (params.__doc__ or "").strip().partition("\n")
        infos.append(
            ModelTypeInfo(
                name=name,
                title=title.strip().rstrip(".") or name,
                description=" ".join(rest.split()),
                params_schema=params.model_json_schema(),
            )
        )
    return infos


def vectorizer_defaults() -> dict[str, dict[str, Any]]:
    """Per vectorizer type, the settings a request naming only that type gets (a union has
    defaults of its own)."""
    kinds = typing.get_args(VectorizerParams.model_fields["type"].annotation)
    return {str(kind): validate_vectorizer({"type": kind}) for kind in kinds}


def split_schema() -> dict[str, Any]:
    properties = FitRequest.model_json_schema()["properties"]
    return {"type": "object", "properties": {k: properties[k] for k in SPLIT_FIELDS}}


@functools.cache  # the schemas are fixed for the life of the process
def model_types_response() -> ModelTypesResponse:
    return ModelTypesResponse(
        model_types=model_type_infos(),
        vectorizer_schema=VectorizerParams.model_json_schema(),
        vectorizer_defaults=vectorizer_defaults(),
        split_schema=split_schema(),
    )
