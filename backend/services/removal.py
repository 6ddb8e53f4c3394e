"""Removing models: the record, its aliases, its cached pipeline, its file, and its fit."""

from __future__ import annotations

import logging
from collections.abc import Callable

from backend.errors import DefaultModelProtected
from backend.schemas.tasks import ACTIVE_STATUSES
from backend.services.inference import InferenceSpace
from backend.services.registry import ModelRegistry
from backend.services.tasks import TaskStore

log = logging.getLogger(__name__)


class ModelRemoval:
    def __init__(
        self,
        registry: ModelRegistry,
        tasks: TaskStore,
        inference: InferenceSpace,
        wake_runner: Callable[[], None],
    ) -> None:
        self.registry = registry
        self.tasks = tasks
        self.inference = inference
        self.wake_runner = wake_runner

    def remove(self, model_ref: str) -> str:
        row = self.registry.row(model_ref)
        if row.is_default:
            raise DefaultModelProtected(f"model {row.id} is a default model and cannot be removed")
        if row.status == "training":
            for task in self.tasks.for_model(row.id):
                if task.status in ACTIVE_STATUSES:
                    self.tasks.request_cancel(task.id)
            self.wake_runner()  # the owning runner stops the fit at its next tick
        self.registry.delete(row.id)
        self.inference.evict(row.id)
        self.inference.artifact_path(row).unlink(missing_ok=True)
        log.info("model %s removed", row.id)
        return row.id

    def remove_all(self) -> list[str]:
        return [self.remove(m.id) for m in self.registry.list() if not m.is_default]
