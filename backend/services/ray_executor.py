"""Fits as Ray tasks on a cluster (`FIT_EXECUTOR=ray`, `RAY_ADDRESS`).

Workers must see the same DATA_DIR and MODELS_DIR as the server (one host, or shared storage),
because they read datasets and write model files directly. Progress travels through a small
actor; cancel is `ray.cancel(force=True)`, which kills the worker running the fit.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import ray
from ray.exceptions import RayError, TaskCancelledError, WorkerCrashedError

from backend.ml.training import FitJob, FitOutcome, run_fit
from backend.services.fit_executor import FitEnded, OnEnded
from backend.settings import Settings

log = logging.getLogger(__name__)


@ray.remote(num_cpus=0)
class ProgressBoard:
    """Latest progress per task, reported by fits and drained by the server."""

    def __init__(self) -> None:
        self.latest: dict[str, tuple[float, str, int | None]] = {}

    def report(self, task_id: str, pid: int, value: float, stage: str) -> None:
        self.latest[task_id] = (value, stage, pid)

    def drain(self) -> dict[str, tuple[float, str, int | None]]:
        latest, self.latest = self.latest, {}
        return latest


@ray.remote(num_cpus=1, max_retries=0)
def fit_on_ray(job: FitJob, board: Any) -> FitOutcome:
    pid = os.getpid()
    return run_fit(job, lambda value, stage: board.report.remote(job.task_id, pid, value, stage))


class RayFitExecutor:
    def __init__(self, settings: Settings) -> None:
        self.workers = settings.fit_workers
        ray.init(
            address=settings.ray_address or None,
            ignore_reinit_error=True,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        # @ray.remote adds .remote() at run time; mypy sees the plain class.
        self._board = ProgressBoard.remote()  # type: ignore[attr-defined]
        self._lock = threading.Lock()
        self._refs: dict[str, Any] = {}
        self._stopping: set[str] = set()
        log.info("fits run on Ray at %s", settings.ray_address or "a local Ray instance")

    def free_slots(self) -> int:
        with self._lock:
            return self.workers - len(self._refs)

    def submit(self, job: FitJob, on_ended: OnEnded) -> None:
        ref = fit_on_ray.remote(job, self._board)
        with self._lock:
            self._refs[job.task_id] = ref
        threading.Thread(
            target=self._wait,
            args=(job.task_id, ref, on_ended),
            daemon=True,
            name=f"ray-fit-{job.task_id}",
        ).start()

    def _wait(self, task_id: str, ref: Any, on_ended: OnEnded) -> None:
        try:
            outcome = ray.get(ref)
            ended = FitEnded(task_id, outcome=outcome)
        except TaskCancelledError as exc:
            ended = FitEnded(task_id, error=exc, cancelled=True)
        except WorkerCrashedError as exc:
            with self._lock:
                stopping = task_id in self._stopping
            ended = FitEnded(task_id, error=exc, cancelled=stopping, worker_died=not stopping)
        except RayError as exc:
            cause = getattr(exc, "cause", None) or exc
            with self._lock:
                stopping = task_id in self._stopping
            ended = FitEnded(task_id, error=cause, cancelled=stopping)
        try:
            on_ended(ended)  # before the slot frees, so the runner records this end first
        finally:
            with self._lock:
                self._refs.pop(task_id, None)
                self._stopping.discard(task_id)

    def stop(self, task_id: str) -> bool:
        with self._lock:
            ref = self._refs.get(task_id)
            if ref is None or task_id in self._stopping:
                return ref is not None
            self._stopping.add(task_id)
        ray.cancel(ref, force=True)
        return True

    def drain_progress(self) -> dict[str, tuple[float, str, int | None]]:
        try:
            # ray.get is typed as returning Any; the actor's drain() returns this dict.
            return ray.get(self._board.drain.remote(), timeout=5)  # type: ignore[no-any-return]
        except RayError:
            return {}

    def shutdown(self) -> None:
        with self._lock:
            refs = list(self._refs.values())
        for ref in refs:
            ray.cancel(ref, force=True)
        ray.shutdown()
