"""A binary model's decision threshold: read its held-out operating curve, set the cut.

The cut lives on the model row, so every version keeps its own and a promote carries it; the
held-out curve recorded at fit time (ml/holdout.py) gives the figures at any cut without
touching the data again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.db.models import ModelRow
from backend.errors import BadRequest, ModelNotTrained
from backend.ml.holdout import metrics_at, points, threshold_for_target
from backend.ml.threshold import default_threshold
from backend.ml.training import positive_class
from backend.schemas.models import ModelInfo
from backend.schemas.thresholds import ThresholdInfo, ThresholdRequest
from backend.services.explanations import Explanations
from backend.services.registry import ModelRegistry

# Figures that depend on the cut: without a held-out curve they would describe the old one.
CUT_DEPENDENT = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "macro_f1",
    "per_class",
    "flagged_per_1000",
)


class Thresholds:
    def __init__(self, registry: ModelRegistry, explanations: Explanations) -> None:
        self.registry = registry
        self.explanations = explanations  # reads a model's pipeline, loaded or not

    def _binary_row(self, model_ref: str) -> ModelRow:
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(
                f"model {row.id} is {row.status}; only trained models have a threshold"
            )
        classes = list(row.classes or [])
        if len(classes) != 2:
            raise BadRequest(
                f"model {row.id} has {len(classes)} classes; a decision threshold applies to "
                "binary models only"
            )
        return row

    def _curve(self, model_id: str) -> dict[str, Any] | None:
        with self.registry.db.session() as session:
            return session.scalar(select(ModelRow.holdout_curve).where(ModelRow.id == model_id))

    def _score_kind(self, row: ModelRow, curve: dict[str, Any] | None) -> str:
        if curve is not None:
            return str(curve["score_kind"])
        pipeline = self.explanations.pipeline(row)
        return "probability" if hasattr(pipeline, "predict_proba") else "decision_function"

    @staticmethod
    def _positive(row: ModelRow) -> Any:
        return positive_class(list(row.classes), (row.metrics or {}).get("positive_label"))

    def info(self, model_ref: str) -> ThresholdInfo:
        row = self._binary_row(model_ref)
        curve = self._curve(row.id)
        score_kind = self._score_kind(row, curve)
        return ThresholdInfo(
            model_id=row.id,
            threshold=row.threshold,
            default_threshold=default_threshold(score_kind),
            score_kind=score_kind,
            positive_label=self._positive(row),
            curve=points(curve) if curve and curve["scores"] else None,
        )

    def set(self, model_ref: str, request: ThresholdRequest) -> ModelInfo:
        row = self._binary_row(model_ref)
        curve = self._curve(row.id)
        classes, positive = list(row.classes), self._positive(row)
        if request.threshold is not None:
            cut = float(request.threshold)
            if self._score_kind(row, curve) == "probability" and not 0 <= cut <= 1:
                raise BadRequest(
                    f"threshold {cut} is outside [0, 1]; model {row.id} scores are probabilities"
                )
        else:
            cut = self._cut_for_target(row, curve, request)
        metrics = {k: v for k, v in (row.metrics or {}).items() if k not in CUT_DEPENDENT}
        if curve and curve["scores"]:
            metrics.update(metrics_at(curve, cut, classes, positive))
        metrics["threshold"] = cut
        self.registry.update(row.id, threshold=cut, metrics=metrics)
        self.registry.on_serving_change()  # every process's predict takes the new cut
        return self.registry.get(row.id)

    def _cut_for_target(
        self, row: ModelRow, curve: dict[str, Any] | None, request: ThresholdRequest
    ) -> float:
        name, target = (
            ("precision", request.target_precision)
            if request.target_precision is not None
            else ("recall", request.target_recall)
        )
        if not curve or not curve["scores"]:
            raise BadRequest(
                f"model {row.id} has no held-out scores (uploaded, or trained before they were "
                "kept); set a threshold directly, or retrain it"
            )
        cut = threshold_for_target(curve, **{name: target})
        if cut is None:
            best = max(points(curve)[name])
            raise BadRequest(
                f"no threshold reaches {name} {target} on model {row.id}'s held-out split "
                f"(the highest is {best:.3f}); ask for at most that"
            )
        return cut
