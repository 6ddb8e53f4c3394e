"""The in-memory inference space of one process: a cache of the models marked loaded.

The database says which models are loaded; a process that lacks one loads it lazily from its
verified artifact, and drops models that another process unloaded.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from backend.db.models import ModelRow
from backend.errors import ModelNotTrained
from backend.ml.artifacts import ArtifactError, load_pipeline
from backend.ml.drift import LIVE_OOV_SAMPLE, OovMeter, calls_feature_rows
from backend.ml.linear_scorer import linear_scorer
from backend.ml.pipeline import predict_and_score, score_matrix
from backend.services.batching import MicroBatcher


def _fitted_pipeline_config() -> Any:
    """The pipeline was validated when it was fitted; re-checking its parameters and the
    finiteness of TF-IDF features on every call was a fifth of a 1-text prediction."""
    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


# A call expected to take this long at most runs on the event loop itself (batching.py).
INLINE_SECONDS = 0.002


class LoadedModel:
    """A pipeline ready to serve, with the micro-batcher its predictions go through."""

    def __init__(
        self,
        model_id: str,
        pipeline: Any,
        classes: list[Any],
        sha256: str | None,
        batching: tuple[int, float] = (512, 0.0),
    ) -> None:
        self.model_id = model_id
        self.pipeline = pipeline
        self.classes = classes
        self.sha256 = sha256
        self.score_kind = (
            "probability" if hasattr(pipeline, "predict_proba") else ("decision_function")
        )
        self.oov = OovMeter(pipeline)
        # The same answers with sklearn's per-call overhead cut (ml/linear_scorer.py), or None.
        self.scorer = linear_scorer(pipeline)
        # (threshold, positive column) of a binary model with a stored threshold, else None.
        self.cut: tuple[float, int] | None = None
        max_size, max_wait_s = batching
        self._inline_chars = (
            int(INLINE_SECONDS / max(self.scorer.seconds_per_char, 1e-9)) if self.scorer else -1
        )
        self.batcher = MicroBatcher(
            self._compute,
            _split,
            max_size=max_size,
            max_wait_s=max_wait_s,
            runs_inline=self._is_short,
        )

    def _is_short(self, _kind: str, texts: list[str]) -> bool:
        """Direct scoring expected to take at most INLINE_SECONDS."""
        return sum(map(len, texts)) <= self._inline_chars

    def _compute(self, kind: str, texts: list[str]) -> Any:
        # numpy output here; rows are cut per caller before any conversion to Python lists.
        if kind == "predict":  # scores too: the prediction log's drift features need them
            labels, scores = self._predict_and_score(texts)
            cut = self.cut  # read once: a threshold change may land while this batch runs
            if cut is not None:
                threshold, column = cut
                chosen = np.where(scores[:, column] >= threshold, column, 1 - column)
                labels = np.asarray(self.classes)[chosen]
            return labels, scores
        if self.scorer is not None:
            return self.scorer.scores(texts)
        with _fitted_pipeline_config():
            return score_matrix(self.pipeline, texts)[1]

    def _predict_and_score(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.scorer is not None:
            return self.scorer.predict_and_score(texts)
        with _fitted_pipeline_config():
            return predict_and_score(self.pipeline, texts)

    def follow(self, row: ModelRow) -> None:
        """Take the row's decision threshold (it changes without a new artifact)."""
        if row.threshold is None or len(self.classes) != 2:
            self.cut = None
            return
        positive = (row.metrics or {}).get("positive_label", self.classes[-1])
        column = self.classes.index(positive) if positive in self.classes else 1
        self.cut = (float(row.threshold), column)

    def live_features(self, calls: list[tuple[list[str], Any]]) -> np.ndarray:
        """Drift features of served calls' texts (ml/drift.py), stacked in call order; the
        prediction log's writer calls it once per batch of this model's calls."""
        return calls_feature_rows(self.oov, calls, LIVE_OOV_SAMPLE)


def _split(_kind: str, output: Any, sizes: list[int]) -> list[Any]:
    """Cut a batch's output per caller: label or score lists; (labels, score array) pairs
    when the output is such a pair."""
    bounds = np.cumsum(sizes)[:-1]
    if isinstance(output, tuple):
        labels, scores = output
        return list(
            zip(
                (part.tolist() for part in np.split(labels, bounds)),
                np.split(scores, bounds),
                strict=True,
            )
        )
    return [part.tolist() for part in np.split(output, bounds)]


class InferenceSpace:
    def __init__(self, models_dir: Path, batching: tuple[int, float] = (512, 0.0)) -> None:
        self.models_dir = models_dir
        self.batching = batching
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}

    def artifact_path(self, row: ModelRow) -> Path:
        return self.models_dir / (row.artifact_path or f"{row.id}.skops")

    def get(self, row: ModelRow) -> LoadedModel:
        """The cached model for `row`, loading (and verifying) it on first use."""
        cached = self.cached(row)
        if cached is not None:
            return cached
        with self._lock:
            load_lock = self._load_locks.setdefault(row.id, threading.Lock())
        with load_lock:  # one load per model even when many requests arrive at once
            cached = self.cached(row)
            if cached is not None:
                return cached
            try:
                pipeline = load_pipeline(self.artifact_path(row), row.artifact_sha256)
            except ArtifactError as exc:
                raise ModelNotTrained(f"model {row.id} cannot be loaded: {exc}") from None
            loaded = LoadedModel(
                row.id, pipeline, list(row.classes or []), row.artifact_sha256, self.batching
            )
            loaded.follow(row)
            self._models[row.id] = loaded
            # A TF-IDF vocabulary is ~10^5 long-lived objects; left in the collected
            # generations, every full GC pass walks them all and stalls requests for tens of
            # milliseconds (p99 120 → 16 ms in bench). Frozen objects are never collected as
            # cycles, so eviction unfreezes, collects once and freezes the survivors again.
            gc.freeze()
            return loaded

    def pipeline_for(self, row: ModelRow) -> Any:
        """The pipeline of a trained model: the cached one if it is loaded, else its file's."""
        if row.loaded:
            return self.get(row).pipeline
        try:
            return load_pipeline(self.artifact_path(row), row.artifact_sha256)
        except ArtifactError as exc:
            raise ModelNotTrained(f"model {row.id} cannot be read: {exc}") from None

    def cached(self, row: ModelRow) -> LoadedModel | None:
        """The model if this process already holds the current version of it."""
        cached = self._models.get(row.id)
        if cached is None or cached.sha256 != row.artifact_sha256:
            return None
        cached.follow(row)
        return cached

    def evict(self, model_id: str) -> None:
        if self._models.pop(model_id, None) is not None:
            _release_model_memory()

    def keep_only(self, model_ids: set[str]) -> None:
        for model_id in list(self._models):
            if model_id not in model_ids:
                self.evict(model_id)

    def ids(self) -> list[str]:
        return list(self._models)


def _release_model_memory() -> None:
    """Free an unloaded model's objects, cycles included, and hand the memory back to the OS.

    A loaded model sits in the frozen GC generation (see `InferenceSpace.get`), where cycles
    are never collected: without the unfreeze/collect, 50 loads and unloads grew resident
    memory by 80%; without malloc_trim, glibc kept another 12% of freed memory.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
