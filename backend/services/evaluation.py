"""Evaluate a trained model, loaded or not, on a stored dataset."""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.db.models import ModelRow
from backend.errors import BadRequest, ModelNotTrained
from backend.ml.metrics import compute_metrics, confusion, pr_points, roc_points
from backend.ml.threshold import decide
from backend.ml.training import positive_class
from backend.schemas.models import EvaluateResponse
from backend.services.datasets import DatasetService
from backend.services.inference import InferenceSpace
from backend.services.registry import ModelRegistry


class Evaluation:
    def __init__(
        self, registry: ModelRegistry, datasets: DatasetService, inference: InferenceSpace
    ) -> None:
        self.registry = registry
        self.datasets = datasets
        self.inference = inference

    def evaluate(self, model_ref: str, dataset_id: str) -> EvaluateResponse:
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(f"model {row.id} is {row.status}; only trained models evaluate")
        dataset = self.datasets.row(dataset_id)
        frame = self.datasets.frame(dataset)
        return self.evaluate_rows(
            row,
            frame["text"].tolist(),
            frame["label"].to_numpy(),
            dataset_id,
            self.datasets.positive_label(dataset),
        )

    def evaluate_rows(
        self,
        row: ModelRow,
        texts: list[str],
        truth: np.ndarray,
        dataset_id: str | None,
        positive_label: Any = None,
        split: str = "dataset",
    ) -> EvaluateResponse:
        """Metrics, curves and confusion matrix of `row` on labelled texts."""
        pipeline = self.inference.pipeline_for(row)
        classes = list(row.classes or np.asarray(pipeline.classes_).tolist())
        unknown = sorted({str(v) for v in np.unique(truth)} - {str(c) for c in classes})
        if len(unknown) == len(np.unique(truth)):
            raise BadRequest(
                f"dataset {dataset_id} has labels {unknown[:10]} and the model knows "
                f"{[str(c) for c in classes]}; evaluate on data labelled like the training data"
            )
        positive = positive_class(classes, positive_label or row.metrics.get("positive_label"))
        scores, predictions, cut = decide(pipeline, texts, classes, positive, row.threshold)
        binary = len(classes) == 2
        return EvaluateResponse(
            model_id=row.id,
            dataset_id=dataset_id,
            split=split,
            classes=classes,
            metrics=compute_metrics(truth, predictions, scores, classes, positive, threshold=cut),
            roc=roc_points(truth, scores, classes, positive),
            pr=pr_points(truth, scores, classes, positive) if binary else None,
            confusion_matrix=confusion(truth, predictions, classes),
        )
