"""`POST /models/evaluate`: scoring a model on all rows of a dataset, or on its own held-out
split, bounded in time and memory.

The work runs in one spawned worker process per server process, one evaluation at a time
(others wait, a few at most), and is stopped with SIGKILL at `EVALUATE_TIMEOUT_S`: a thread
of the web process could not be stopped, and a large model or dataset would grow the web
process for good. Evaluating a model that is not loaded takes a load's memory (in the worker),
so it needs a free `MAX_LOADED_MODELS` slot like a load does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from backend.db.models import DatasetRow, ModelRow
from backend.errors import (
    BadRequest,
    ModelNotTrained,
    QueueFull,
    ServiceUnavailable,
    TooManyLoaded,
    Unprocessable,
)
from backend.ml.artifacts import ArtifactError
from backend.ml.evaluation import EvaluateJob, EvaluationRefused, evaluate_in_worker
from backend.ml.training import FitJob, init_worker
from backend.schemas.models import EvaluateResponse
from backend.services.datasets import DatasetService
from backend.services.holdout_split import HoldoutSplits
from backend.services.inference import InferenceSpace
from backend.services.registry import ModelRegistry
from backend.settings import Settings

log = logging.getLogger(__name__)

# Evaluations that may wait for the worker; more get 429 at once.
MAX_WAITING = 4


class EvaluationPool:
    """One worker process that runs evaluations one at a time, each under a time limit."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._turn = asyncio.Semaphore(1)
        self._waiting = 0

    def _ensure_pool(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=init_worker,  # one BLAS thread, exits if the server dies
                    initargs=(None, os.getpid(), "eval"),
                )
            return self._pool

    def _kill_pool(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        # The executor has no way to stop a running call; its worker is ours alone.
        for process in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(ProcessLookupError, OSError):
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    async def run(self, job: EvaluateJob) -> dict[str, Any]:
        if self._waiting >= MAX_WAITING:
            raise QueueFull(
                f"{MAX_WAITING} evaluations are already waiting for the evaluation worker; "
                "try again in a moment"
            )
        self._waiting += 1
        try:
            async with self._turn:
                pool = await asyncio.to_thread(self._ensure_pool)
                future = pool.submit(evaluate_in_worker, job)
                try:
                    return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
                except TimeoutError:
                    await asyncio.to_thread(self._kill_pool)
                    raise Unprocessable(
                        f"the evaluation ran longer than EVALUATE_TIMEOUT_S="
                        f"{self.timeout_s:g}s and was stopped; evaluate on a smaller dataset"
                    ) from None
                except BrokenProcessPool:
                    await asyncio.to_thread(self._kill_pool)
                    raise ServiceUnavailable(
                        "the evaluation's worker process died (out of memory?); "
                        "evaluate on a smaller dataset"
                    ) from None
        finally:
            self._waiting -= 1

    def shutdown(self) -> None:
        self._kill_pool()


class DatasetEvaluation:
    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        datasets: DatasetService,
        inference: InferenceSpace,
        holdout_splits: HoldoutSplits,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.datasets = datasets
        self.inference = inference
        self.holdout_splits = holdout_splits
        self.pool = EvaluationPool(settings.evaluate_timeout_s)

    def job(self, model_ref: str, dataset_id: str | None) -> EvaluateJob:
        """Check the request against the records and describe the work for the worker;
        `dataset_id` None: the model's own held-out split."""
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(f"model {row.id} is {row.status}; only trained models evaluate")
        holdout = None
        if dataset_id is None:
            holdout = self.holdout_splits.fit_job(row)
            return self._job(row, holdout.dataset_path, row.dataset_id, holdout.label_kind, holdout)
        dataset = self.datasets.row(dataset_id)
        return self._job(
            row, str(self.datasets.path(dataset)), dataset.id, dataset.label_kind, None, dataset
        )

    def _job(
        self,
        row: ModelRow,
        dataset_path: str,
        dataset_id: str | None,
        label_kind: str,
        holdout: FitJob | None,
        dataset: DatasetRow | None = None,
    ) -> EvaluateJob:
        limit = self.settings.max_loaded_models
        if not row.loaded and self.registry.count_loaded() >= limit:
            raise TooManyLoaded(
                f"MAX_LOADED_MODELS={limit} models are loaded, and evaluating model {row.id} "
                "loads it for the evaluation; unload one, or evaluate a loaded model"
            )
        own_positive = self.datasets.positive_label(dataset) if dataset is not None else None
        return EvaluateJob(
            model_id=row.id,
            model_path=str(self.inference.artifact_path(row)),
            model_sha256=row.artifact_sha256,
            dataset_id=dataset_id or "",
            dataset_path=dataset_path,
            label_kind=label_kind,
            classes=list(row.classes or []),
            positive_label=own_positive or (row.metrics or {}).get("positive_label"),
            threshold=row.threshold,
            max_classes=self.settings.max_classes,
            holdout=holdout,
        )

    async def evaluate(self, model_ref: str, dataset_id: str | None) -> EvaluateResponse:
        """On `dataset_id`, or (None) on the model's held-out split, re-created in the worker:
        both under EVALUATE_TIMEOUT_S and off the web process."""
        job = await asyncio.to_thread(self.job, model_ref, dataset_id)
        try:
            answer = await self.pool.run(job)
        except EvaluationRefused as exc:
            raise BadRequest(str(exc)) from None
        except ArtifactError as exc:
            raise ModelNotTrained(f"model {job.model_id} cannot be read: {exc}") from None
        if job.holdout is not None:
            return EvaluateResponse(
                model_id=job.model_id, dataset_id=job.dataset_id or None, split="holdout", **answer
            )
        return EvaluateResponse(model_id=job.model_id, dataset_id=job.dataset_id, **answer)
