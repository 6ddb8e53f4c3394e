"""Fits: record a model in training and queue the task that fits it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.errors import DatasetNotFound
from backend.ml.training import FitJob
from backend.schemas.models import FitAccepted, FitRequest
from backend.schemas.tasks import TaskKind
from backend.services.datasets import DatasetService
from backend.services.ids import new_id
from backend.services.registry import ModelRegistry
from backend.services.task_runner import job_to_request
from backend.services.tasks import TaskStore
from backend.settings import Settings


class ModelTraining:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        tasks: TaskStore,
        datasets: DatasetService,
        wake_runner: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.tasks = tasks
        self.datasets = datasets
        self.wake_runner = wake_runner

    def fit(self, request: FitRequest) -> FitAccepted:
        dataset = self.datasets.row(request.dataset_id)
        return self.submit(
            request,
            [str(self.datasets.path(dataset))],
            dataset.label_kind,
            self.datasets.positive_label(dataset),
        )

    def submit(
        self,
        request: FitRequest,
        dataset_paths: list[str],
        label_kind: str,
        positive_label: Any,
        *,
        kind: TaskKind = "fit",
        **task_extra: Any,
    ) -> FitAccepted:
        """Record a model in training and queue the task that fits it on `dataset_paths`."""
        row = self.registry.create(
            name=request.name,
            model_type=request.model_type,
            params=request.params,
            vectorizer=request.vectorizer,
            test_size=request.test_size,
            random_state=request.random_state,
            status="training",
            dataset_id=request.dataset_id,
            label_names=self._label_names(request.dataset_id),
        )
        job = FitJob(
            task_id=new_id("task"),
            model_id=row.id,
            dataset_path=dataset_paths[0],
            label_kind=label_kind,
            model_type=request.model_type,
            params=request.params,
            vectorizer=request.vectorizer,
            test_size=request.test_size,
            random_state=request.random_state,
            artifact_path=str(self.settings.artifacts_dir / f"{row.id}.skops"),
            positive_label=positive_label,
            extra_dataset_paths=tuple(dataset_paths[1:]),
            search=request.search.model_dump() if request.search else None,
            joblib_backend="ray" if self.settings.fit_executor == "ray" else None,
            tune_threshold=request.tune_threshold,
            max_model_bytes=self.settings.max_model_bytes,
            max_classes=self.settings.max_classes,
        )
        if request.search is not None and kind == "fit":
            kind = "search"
        try:
            task = self.tasks.create(
                kind, row.id, job_to_request(job, **task_extra), task_id=job.task_id
            )
        except BaseException:
            self.registry.delete(row.id)
            raise
        self.wake_runner()
        return FitAccepted(task_id=task.id, model_id=row.id)

    def _label_names(self, dataset_id: str) -> dict[str, str] | None:
        """The training dataset's label names, which the model keeps (None if it has none)."""
        try:
            return self.datasets.row(dataset_id).label_names
        except DatasetNotFound:
            return None
