"""Evaluate a trained model, loaded or not, on a stored dataset."""

from __future__ import annotations

import numpy as np

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
        pipeline = self.inference.pipeline_for(row)
        frame = self.datasets.frame(dataset)
        classes = list(row.classes or np.asarray(pipeline.classes_).tolist())
        unknown = sorted({str(v) for v in frame["label"].unique()} - {str(c) for c in classes})
        if len(unknown) == len(frame["label"].unique()):
            raise BadRequest(
                f"dataset {dataset_id} has labels {unknown[:10]} and the model knows "
                f"{[str(c) for c in classes]}; evaluate on data labelled like the training data"
            )
        truth = frame["label"].to_numpy()
        positive = positive_class(
            classes, self.datasets.positive_label(dataset) or row.metrics.get("positive_label")
        )
        scores, predictions, cut = decide(
            pipeline, frame["text"].tolist(), classes, positive, row.threshold
        )
        binary = len(classes) == 2
        return EvaluateResponse(
            model_id=row.id,
            dataset_id=dataset_id,
            classes=classes,
            metrics=compute_metrics(truth, predictions, scores, classes, positive, threshold=cut),
            roc=roc_points(truth, scores, classes, positive),  # type: ignore[arg-type]
            pr=pr_points(truth, scores, classes, positive) if binary else None,  # type: ignore[arg-type]
            confusion_matrix=confusion(truth, predictions, classes),
        )
