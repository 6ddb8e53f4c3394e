"""Explanations of a model's labels (POST /api/v1/models/explain), pure logic in ml/explain."""

from __future__ import annotations

from typing import Any

from backend.db.models import ModelRow
from backend.errors import BadRequest, ModelNotTrained
from backend.ml.explain import CannotExplain, explain
from backend.services.inference import InferenceSpace
from backend.services.registry import ModelRegistry
from backend.services.text_budget import check_texts
from backend.settings import Settings


class Explanations:
    def __init__(
        self, settings: Settings, registry: ModelRegistry, inference: InferenceSpace
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.inference = inference

    def pipeline(self, row: ModelRow) -> Any:
        """A loaded model's cached pipeline, or the verified artifact of an unloaded one."""
        if row.status != "trained":
            raise ModelNotTrained(f"model {row.id} is {row.status}; only trained models explain")
        return self.inference.pipeline_for(row)

    def explain(self, model_ref: str, texts: list[str], top_k: int) -> dict[str, Any]:
        check_texts(self.settings, texts, explain=True)
        row = self.registry.row(model_ref)
        pipeline = self.pipeline(row)
        try:
            explanations = explain(
                pipeline,
                texts,
                top_k,
                threshold=getattr(row, "threshold", None),
                positive=(row.metrics or {}).get("positive_label"),
            )
        except CannotExplain as exc:
            raise BadRequest(
                f"model {row.id} ({row.model_type}) cannot explain its labels: {exc}"
            ) from None
        return {"model_id": row.id, "explanations": explanations}
