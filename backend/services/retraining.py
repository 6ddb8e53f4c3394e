"""Retraining with an accuracy gate.

A challenger is trained with the champion's configuration on the champion's data plus part of
the new data; both are scored on the held-out rest of the new data; the alias moves to the
challenger only if it wins by `min_improvement`. The alias is one row updated in one
transaction, so `name@alias` resolves at every moment.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from backend.errors import BadRequest, Conflict, TooManyLoaded
from backend.ml.metrics import compute_metrics
from backend.ml.params import PARAMS_BY_TYPE, VectorizerParams, validation_message
from backend.ml.pipeline import score_matrix
from backend.ml.training import positive_class, read_dataset, split
from backend.schemas.models import FitAccepted, FitRequest, RetrainRequest
from backend.services.datasets import DatasetService, write_frame_atomically
from backend.services.ids import new_id
from backend.services.inference import InferenceSpace
from backend.services.loaded_set import LoadedSet
from backend.services.registry import ModelRegistry
from backend.services.retrain_files import RetrainFiles, remove
from backend.services.training import ModelTraining

log = logging.getLogger(__name__)


class Retraining:
    """`start` queues a `retrain` task; `decide` is the task runner's finisher for that kind,
    and `files.sweep` one of its tick hooks (split files of retrains that ended otherwise)."""

    def __init__(
        self,
        training: ModelTraining,
        loaded_set: LoadedSet,
        registry: ModelRegistry,
        datasets: DatasetService,
        inference: InferenceSpace,
        files: RetrainFiles,
    ) -> None:
        self.training = training
        self.loaded_set = loaded_set
        self.registry = registry
        self.datasets = datasets
        self.inference = inference
        self.files = files

    def start(self, request: RetrainRequest) -> FitAccepted:
        champion_id = self.registry.alias_target(request.name, request.alias)
        if champion_id is None:
            raise Conflict(
                f"{request.name}@{request.alias} does not exist; promote a version of "
                f"{request.name!r} first (POST /api/v1/models/{{id}}/promote)"
            )
        champion = self.registry.row(champion_id)
        new_data = self.datasets.row(request.dataset_id)
        if champion.classes and new_data.label_kind != _label_kind(champion.classes):
            raise BadRequest(
                f"dataset {new_data.id} has {new_data.label_kind} labels but "
                f"{request.name} was trained on {_label_kind(champion.classes)} labels"
            )
        frame = self.datasets.frame(new_data)
        if len(frame) < 4:
            raise BadRequest("the new dataset needs at least 4 rows to hold some out")
        train_texts, holdout_texts, train_labels, holdout_labels = split(
            frame, request.holdout_fraction, champion.random_state
        )
        fit_request = challenger_request(champion, request)
        stem = new_id("retrain")
        folder = self.datasets.settings.datasets_dir
        train_path, holdout_path = folder / f"{stem}-train.csv", folder / f"{stem}-holdout.csv"
        import pandas as pd

        paths = [str(train_path)]
        if champion.dataset_id:
            try:
                old = self.datasets.row(champion.dataset_id)
                paths.insert(0, str(self.datasets.path(old)))
            except Exception:
                log.warning(
                    "the champion's dataset %s is gone; retraining on new data only",
                    champion.dataset_id,
                )
        with self.files.writing(train_path, holdout_path):
            write_frame_atomically(
                pd.DataFrame({"text": train_texts, "label": train_labels}), train_path
            )
            write_frame_atomically(
                pd.DataFrame({"text": holdout_texts, "label": holdout_labels}), holdout_path
            )
            return self._submit(
                request, fit_request, paths, new_data, champion.id, train_path, holdout_path
            )

    def _submit(
        self,
        request: RetrainRequest,
        fit_request: FitRequest,
        paths: list[str],
        new_data: Any,
        champion_id: str,
        train_path: Path,
        holdout_path: Path,
    ) -> FitAccepted:
        return self.training.submit(
            fit_request,
            paths,
            new_data.label_kind,
            self.datasets.positive_label(new_data),
            kind="retrain",
            retrain={
                "name": request.name,
                "alias": request.alias,
                "champion_id": champion_id,
                "metric": request.metric,
                "min_improvement": request.min_improvement,
                "holdout_path": str(holdout_path),
                "train_path": str(train_path),
                "label_kind": new_data.label_kind,
                "positive_label": self.datasets.positive_label(new_data),
            },
        )

    def decide(
        self, challenger_id: str, task_request: dict[str, Any], _metrics: dict[str, Any]
    ) -> dict[str, Any]:
        """Score champion and challenger on the held-out new data; move the alias or not."""
        spec = task_request["retrain"]
        holdout = read_dataset(spec["holdout_path"], spec["label_kind"])
        champion = self.registry.row(spec["champion_id"])
        challenger = self.registry.row(challenger_id)
        scores = {
            "champion": self._score(champion, holdout, spec),
            "challenger": self._score(challenger, holdout, spec),
        }
        metric = spec["metric"]
        champion_score = scores["champion"].get(metric) or 0.0
        challenger_score = scores["challenger"].get(metric) or 0.0
        improvement = challenger_score - champion_score
        promoted = improvement > 0 and improvement >= spec["min_improvement"]
        notes: list[str] = []
        if promoted:
            if champion.loaded and not challenger.loaded:
                try:
                    self.loaded_set.load(challenger.id)
                except TooManyLoaded as exc:
                    notes.append(f"challenger not loaded: {exc.detail}")
            self.registry.set_alias(spec["name"], spec["alias"], challenger.id)
        remove(spec["holdout_path"], spec["train_path"])
        log.info(
            "retrain of %s: %s %.4f vs %.4f → %s",
            spec["name"],
            metric,
            challenger_score,
            champion_score,
            "promoted" if promoted else "kept",
        )
        return {
            "decision": "promoted" if promoted else "kept",
            "metric": metric,
            "min_improvement": spec["min_improvement"],
            "champion": {
                "model_id": champion.id,
                "score": champion_score,
                "metrics": scores["champion"],
            },
            "challenger": {
                "model_id": challenger.id,
                "score": challenger_score,
                "metrics": scores["challenger"],
            },
            "holdout_rows": len(holdout),
            "alias": f"{spec['name']}@{spec['alias']}",
            "notes": notes,
        }

    def _score(self, row: Any, holdout: Any, spec: dict[str, Any]) -> dict[str, Any]:
        pipeline = self.inference.pipeline_for(row)
        texts = holdout["text"].tolist()
        classes = list(row.classes or np.asarray(pipeline.classes_).tolist())
        _kind, scores = score_matrix(pipeline, texts)
        positive = positive_class(classes, spec.get("positive_label"))
        return compute_metrics(
            holdout["label"].to_numpy(),
            np.asarray(pipeline.predict(texts)),
            scores,
            classes,
            positive,
        )


def challenger_request(champion: Any, request: RetrainRequest) -> FitRequest:
    """The champion's configuration as a fit request, or a 400 saying why it cannot be one.

    An uploaded model records every parameter its classifier has; only those the model type's
    schema knows are kept (the rest are scikit-learn defaults or cannot be set through a fit).
    """
    if champion.model_type not in PARAMS_BY_TYPE:
        raise BadRequest(
            f"{request.name}@{request.alias} is a {champion.model_type} model (uploaded), which "
            f"retrain cannot train; retrain works for {sorted(PARAMS_BY_TYPE)} models"
        )
    known = PARAMS_BY_TYPE[champion.model_type].model_fields
    params = {k: v for k, v in (champion.params or {}).items() if k in known}
    vectorizer = {
        k: v for k, v in (champion.vectorizer or {}).items() if k in VectorizerParams.model_fields
    }
    try:
        return FitRequest(
            name=request.name,
            dataset_id=request.dataset_id,
            model_type=champion.model_type,
            params=params,
            vectorizer=vectorizer,
            test_size=champion.test_size if champion.test_size is not None else 0.2,
            random_state=champion.random_state if champion.random_state is not None else 42,
        )
    except ValidationError as exc:
        raise BadRequest(
            f"{request.name}@{request.alias} ({champion.id}) has a configuration a fit cannot "
            f"reproduce ({validation_message('model', exc)}); train a new model with POST "
            "/api/v1/models/fit instead"
        ) from None


def _label_kind(classes: list[Any]) -> str:
    return "int" if all(isinstance(c, int) for c in classes) else "str"
