"""The answer of GET /api/v1/model_types."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelTypeInfo(BaseModel):
    name: str = Field(description="the `model_type` of a fit")
    title: str
    description: str
    params_schema: dict[str, Any] = Field(
        description="JSON Schema of `params`: each property's default, bounds and description"
    )


class ModelTypesResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_types: list[ModelTypeInfo]
    vectorizer_schema: dict[str, Any] = Field(description="JSON Schema of `vectorizer`")
    vectorizer_defaults: dict[str, dict[str, Any]] = Field(
        description='per vectorizer type, the settings `{"type": type}` alone gets'
    )
    split_schema: dict[str, Any] = Field(
        description="JSON Schema of a fit's `test_size` and `random_state`"
    )
