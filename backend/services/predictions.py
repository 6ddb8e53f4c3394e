"""Predictions and scores from loaded models, through each model's micro-batcher."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from backend.db.models import ModelRow
from backend.errors import ModelNotLoaded, PayloadTooLarge
from backend.services.inference import InferenceSpace
from backend.services.prediction_log import PredictionLog
from backend.services.registry import ModelRegistry
from backend.services.serving import ServingTable
from backend.services.text_budget import check_texts
from backend.settings import Settings


class Predictions:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        inference: InferenceSpace,
        serving: ServingTable,
        prediction_log: PredictionLog,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.inference = inference
        self.serving = serving
        self.prediction_log = prediction_log

    def _loaded_row(self, model_ref: str) -> ModelRow:
        """The loaded model `model_ref` names, or the precise 404/409 from the database."""
        row = self.registry.row(model_ref)
        if not row.loaded:
            raise ModelNotLoaded(row.id)
        return row

    async def serve(
        self, kind: str, model_ref: str, texts: list[str], role: str | None
    ) -> dict[str, Any]:
        """Predict (`kind` "predict") or score ("scores") through the model's micro-batcher.

        In the steady state this touches neither the database nor a thread of its own: the
        serving table answers which models are loaded, and the batcher runs the pipeline.
        """
        check_texts(self.settings, texts)
        started = time.perf_counter()
        await self.serving.ensure_fresh()
        row = self.serving.lookup(model_ref)
        if row is None:
            row = await asyncio.to_thread(self._loaded_row, model_ref)
        model = self.inference.cached(row)
        if model is None:
            model = await asyncio.to_thread(self.inference.get, row)
        cells = len(texts) * len(model.classes)
        if kind == "scores" and cells > self.settings.max_predict_scores:
            raise PayloadTooLarge(
                f"{len(texts):,} texts × {len(model.classes)} classes is {cells:,} scores, over "
                f"MAX_PREDICT_SCORES={self.settings.max_predict_scores}; send at most "
                f"{max(1, self.settings.max_predict_scores // len(model.classes)):,} texts"
            )
        output = await model.batcher.submit(kind, texts)
        latency_ms = (time.perf_counter() - started) * 1000
        if kind == "predict":
            predictions, scores = output
            ids = self.prediction_log.record(
                model_id=model.model_id,
                endpoint="predict",
                texts=texts,
                outputs=predictions,
                latency_ms=latency_ms,
                role=role,
                scores=scores,
                features=model.live_features,
            )
            return {"model_id": model.model_id, "predictions": predictions, "prediction_ids": ids}
        labels = [str(c) for c in model.classes]
        ids = self.prediction_log.record(
            model_id=model.model_id,
            endpoint="predict_scores",
            texts=texts,
            outputs=[dict(zip(labels, scores, strict=True)) for scores in output],
            latency_ms=latency_ms,
            role=role,
            scores=output,
            features=model.live_features,
        )
        return {
            "model_id": model.model_id,
            "classes": model.classes,
            "score_kind": model.score_kind,
            "scores": output,
            "prediction_ids": ids,
        }
