"""A model's own held-out split, re-created from the job that trained it.

Scores on the rows a model was trained on are inflated; its held-out split is the honest
comparison. The split is deterministic (the job's datasets, row cap, test_size and
random_state), so it is rebuilt rather than stored: the fit's task keeps the whole job, and
a default model (trained without a task) is rebuilt from its row and the settings. The
evaluation worker re-creates the rows (services/dataset_evaluation.py), under the same time
limit as an evaluation on a dataset.
"""

from __future__ import annotations

from pathlib import Path

from backend.db.models import ModelRow
from backend.errors import BadRequest
from backend.ml.training import FitJob
from backend.services.datasets import DatasetService
from backend.services.registry import ModelRegistry
from backend.services.task_runner import request_to_job
from backend.services.tasks import TaskStore
from backend.settings import Settings


class HoldoutSplits:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        tasks: TaskStore,
        datasets: DatasetService,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.tasks = tasks
        self.datasets = datasets

    def job_of(self, row: ModelRow) -> FitJob:
        """The job that trained `row` (its task's, or a default model's equivalent)."""
        for task in self.tasks.for_model(row.id):
            if task.status == "succeeded" and "job" in (task.request or {}):
                return request_to_job(task.request)
        if row.dataset_id is None:
            raise BadRequest(
                f"model {row.id} was uploaded: its training data and held-out split are unknown; "
                "evaluate it on a dataset"
            )
        dataset = self.datasets.row(row.dataset_id)
        return FitJob(
            task_id="",
            model_id=row.id,
            dataset_path=str(self.datasets.path(dataset)),
            label_kind=dataset.label_kind,
            model_type=row.model_type,
            params=row.params,
            vectorizer=row.vectorizer,
            test_size=row.test_size,
            random_state=row.random_state,
            artifact_path="",
            max_rows=self.settings.default_models_rows if row.is_default else 0,
        )

    def fit_job(self, row: ModelRow) -> FitJob:
        """The job whose split `row` was trained on, checked to still have its data."""
        job = self.job_of(row)
        missing = [p for p in (job.dataset_path, *job.extra_dataset_paths) if not Path(p).is_file()]
        if missing:
            raise BadRequest(
                f"model {row.id}'s training data is gone (a dataset was deleted); its held-out "
                "split cannot be re-created, evaluate it on a dataset"
            )
        return job
