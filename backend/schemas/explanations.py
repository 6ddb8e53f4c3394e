"""Explain requests and answers: per text, the label, its score and the tokens behind it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from backend.schemas.common import Label
from backend.schemas.models import PredictRequest

MAX_TOP_K = 200  # enough to colour every word of a long comment; more is noise


class ExplainRequest(PredictRequest):
    top_k: int = Field(
        10, ge=1, le=MAX_TOP_K, description="tokens per text, strongest push toward the label first"
    )


class TokenWeight(BaseModel):
    token: str = Field(
        description="a word or word n-gram of the text (character n-grams are "
        "summed into the words holding them)"
    )
    weight: float = Field(
        description="how much the token pushed the text toward `label`; "
        "negative pushes away from it"
    )


class Explanation(BaseModel):
    label: Label = Field(description="the model's label for the text, at its threshold")
    score: float = Field(description="the model's score for that label")
    tokens: list[TokenWeight]


class ExplainResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_id: str
    explanations: list[Explanation]
