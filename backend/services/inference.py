"""The in-memory inference space of one process: a cache of the models marked loaded.

The database says which models are loaded; a process that lacks one loads it lazily from its
verified artifact, and drops models that another process unloaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.db.models import ModelRow
from backend.errors import ModelNotTrained
from backend.ml.artifacts import ArtifactError, load_pipeline
from backend.ml.pipeline import score_matrix


@dataclass(frozen=True)
class LoadedModel:
    model_id: str
    pipeline: Any
    classes: list[Any]
    sha256: str | None

    def predict(self, texts: list[str]) -> list[Any]:
        return np.asarray(self.pipeline.predict(texts)).tolist()

    def scores(self, texts: list[str]) -> tuple[str, list[list[float]]]:
        kind, matrix = score_matrix(self.pipeline, texts)
        return kind, matrix.tolist()


class InferenceSpace:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}

    def artifact_path(self, row: ModelRow) -> Path:
        return self.models_dir / (row.artifact_path or f"{row.id}.skops")

    def get(self, row: ModelRow) -> LoadedModel:
        """The cached model for `row`, loading (and verifying) it on first use."""
        cached = self._models.get(row.id)
        if cached is not None and cached.sha256 == row.artifact_sha256:
            return cached
        with self._lock:
            load_lock = self._load_locks.setdefault(row.id, threading.Lock())
        with load_lock:  # one load per model even when many requests arrive at once
            cached = self._models.get(row.id)
            if cached is not None and cached.sha256 == row.artifact_sha256:
                return cached
            try:
                pipeline = load_pipeline(self.artifact_path(row), row.artifact_sha256)
            except ArtifactError as exc:
                raise ModelNotTrained(f"model {row.id} cannot be loaded: {exc}") from None
            loaded = LoadedModel(row.id, pipeline, list(row.classes or []), row.artifact_sha256)
            self._models[row.id] = loaded
            return loaded

    def evict(self, model_id: str) -> None:
        self._models.pop(model_id, None)

    def keep_only(self, model_ids: set[str]) -> None:
        for model_id in list(self._models):
            if model_id not in model_ids:
                self._models.pop(model_id, None)

    def ids(self) -> list[str]:
        return list(self._models)
