"""Where fits run. `FitExecutor` is the small interface the task runner uses; the default
`LocalFitExecutor` is a shared spawn-context `ProcessPoolExecutor`.

A running fit is stopped by SIGKILL of its worker. That breaks a `ProcessPoolExecutor`, so the
executor rebuilds its pool and tells the runner, per failed fit, whether its own worker died or
it was a bystander that can simply run again.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

import psutil

from backend.ml.training import FitJob, FitOutcome, fit_in_worker, init_worker

log = logging.getLogger(__name__)


@dataclass
class FitEnded:
    """What became of one submitted fit."""

    task_id: str
    outcome: FitOutcome | None = None
    error: BaseException | None = None
    cancelled: bool = False  # stopped on request (kill or never started)
    worker_died: bool = False  # its worker process died under it
    bystander: bool = False  # failed only because another worker of the pool died


OnEnded = Callable[[FitEnded], None]


class FitExecutor(Protocol):
    def free_slots(self) -> int: ...
    def submit(self, job: FitJob, on_ended: OnEnded) -> None: ...
    def stop(self, task_id: str) -> bool: ...
    def drain_progress(self) -> dict[str, tuple[float, str, int | None]]: ...
    def shutdown(self) -> None: ...


def _pid_alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


class LocalFitExecutor:
    """Fits in a shared process pool of `workers` spawned processes."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._progress_queue: Any = self._context.Queue()
        self._lock = threading.Lock()
        self._futures: dict[str, Future[FitOutcome]] = {}
        self._pids: dict[str, int] = {}
        self._stopping: set[str] = set()
        self._progress: dict[str, tuple[float, str, int | None]] = {}
        self._pool = self._new_pool()
        self._closed = False
        self._listener = threading.Thread(
            target=self._listen, daemon=True, name="fit-progress-listener"
        )
        self._listener.start()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=init_worker,
            initargs=(self._progress_queue, os.getpid()),
        )
        for _ in range(self.workers):  # start the workers now, not on the first fit
            pool.submit(os.getpid)
        return pool

    def _listen(self) -> None:
        while True:
            message = self._progress_queue.get()
            if message is None:
                return
            task_id, pid, value, stage = message
            with self._lock:
                if task_id in self._futures:
                    self._pids[task_id] = pid
                    self._progress[task_id] = (value, stage, pid)

    def free_slots(self) -> int:
        with self._lock:
            return self.workers - len(self._futures)

    def submit(self, job: FitJob, on_ended: OnEnded) -> None:
        with self._lock:
            pool = self._pool
            future = pool.submit(fit_in_worker, job)
            self._futures[job.task_id] = future
        future.add_done_callback(lambda f: self._ended(job.task_id, pool, f, on_ended))

    def _ended(
        self,
        task_id: str,
        pool: ProcessPoolExecutor,
        future: Future[FitOutcome],
        on_ended: OnEnded,
    ) -> None:
        # Runs in the pool's manager thread, right when the future settles: a bystander's
        # worker is still alive here, the dead worker is not. The slot frees only after
        # `on_ended` has the outcome, so a runner that sees a free slot can record it first.
        with self._lock:
            pid = self._pids.pop(task_id, None)
            self._progress.pop(task_id, None)
            stopping = task_id in self._stopping
            self._stopping.discard(task_id)
        try:
            self._report_end(task_id, pool, future, on_ended, pid, stopping)
        finally:
            with self._lock:
                self._futures.pop(task_id, None)
                self._stopping.discard(task_id)

    def _report_end(
        self,
        task_id: str,
        pool: ProcessPoolExecutor,
        future: Future[FitOutcome],
        on_ended: OnEnded,
        pid: int | None,
        stopping: bool,
    ) -> None:
        if future.cancelled():
            on_ended(FitEnded(task_id, cancelled=True))
            return
        error = future.exception()
        if error is None:
            on_ended(FitEnded(task_id, outcome=future.result()))
            return
        if isinstance(error, BrokenProcessPool):
            self._replace_pool(pool)
            bystander = not stopping and pid is not None and _pid_alive(pid)
            on_ended(
                FitEnded(
                    task_id,
                    error=error,
                    cancelled=stopping,
                    worker_died=not bystander and not stopping,
                    bystander=bystander,
                )
            )
            return
        on_ended(FitEnded(task_id, error=error, cancelled=stopping))

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not broken or self._closed:
                return
            log.warning("a fit worker died; starting a new process pool")
            self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def stop(self, task_id: str) -> bool:
        """Stop a fit: cancel it if it has not started, else SIGKILL its worker."""
        with self._lock:
            future = self._futures.get(task_id)
            pid = self._pids.get(task_id)
            if future is None:
                return False
            self._stopping.add(task_id)
        if future.cancel():
            return True
        if pid is None:
            return False  # started but has not reported its pid yet; the runner retries
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return True

    def drain_progress(self) -> dict[str, tuple[float, str, int | None]]:
        with self._lock:
            progress, self._progress = self._progress, {}
            return progress

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            pids = list(self._pids.values())
            pool = self._pool
        for pid in pids:  # running fits would otherwise hold the shutdown for their whole fit
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        pool.shutdown(wait=True, cancel_futures=True)
        self._progress_queue.put(None)
