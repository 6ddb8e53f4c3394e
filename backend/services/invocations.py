"""MLflow-style invocations: the texts of a scoring request, predicted like any predict call."""

from __future__ import annotations

from typing import Any

from backend.schemas.invocations import texts_from_invocation
from backend.services.container import Services


async def answer_invocation(
    services: Services, model_ref: str, content_type: str | None, raw: bytes, role: str | None
) -> dict[str, Any]:
    """`{"predictions": [label, ...]}` as `mlflow models serve` answers for a classifier."""
    texts = texts_from_invocation(content_type, raw)
    answer = await services.predictions.serve("predict", model_ref, texts, role)
    answer.pop("model_id", None)
    answer.pop("prediction_ids", None)  # MLflow's answer holds predictions only
    return answer
