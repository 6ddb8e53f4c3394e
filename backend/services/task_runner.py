"""The task runner of one server process: claims queued tasks from the database, hands them
to the fit executor, writes progress, carries out cancels and timeouts, and records outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from backend.ml.training import FitJob
from backend.schemas.tasks import TaskStatus
from backend.services.fit_executor import FitEnded, FitExecutor
from backend.services.registry import ModelRegistry
from backend.services.tasks import TaskStore
from backend.settings import Settings

log = logging.getLogger(__name__)

# Called after a fit of a given task kind succeeded: may add to the task's result.
Finisher = Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]]


def job_to_request(job: FitJob, **extra: Any) -> dict[str, Any]:
    return {"job": asdict(job), **extra}


def request_to_job(request: dict[str, Any]) -> FitJob:
    fields = dict(request["job"])
    fields["extra_dataset_paths"] = tuple(fields.get("extra_dataset_paths", ()))
    return FitJob(**fields)


class Wakeup:
    """Wakes the task runner from any thread, so a submitted task starts without waiting
    for the next poll. Made before the runner: services that queue tasks ring it, and the
    runner's own collaborators (finishers) are among them.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def ring(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout_s: float) -> None:
        """Return when rung or after `timeout_s`, whichever comes first."""
        self._loop = asyncio.get_running_loop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout_s)
        self._event.clear()


class TaskRunner:
    HEARTBEAT_EVERY_S = 2.0
    REAP_EVERY_S = 5.0

    def __init__(
        self,
        settings: Settings,
        tasks: TaskStore,
        registry: ModelRegistry,
        executor: FitExecutor,
        owner: str,
        wakeup: Wakeup,
        *,
        finishers: dict[str, Finisher],
        on_tick: list[Callable[[], object]],
    ) -> None:
        """`finishers` run after a fit of their task kind succeeds; `on_tick` every few
        seconds (e.g. to drop cached models that another process unloaded)."""
        self.settings = settings
        self.tasks = tasks
        self.registry = registry
        self.executor = executor
        self.owner = owner
        self.wakeup = wakeup
        self.finishers = finishers
        self.on_tick = on_tick
        self._ended: queue.SimpleQueue[FitEnded] = queue.SimpleQueue()
        self._started: dict[str, float] = {}
        self._timed_out: set[str] = set()
        self._last_heartbeat = 0.0
        self._last_reap = 0.0
        self._stopping = False
        self._draining = False  # shutting down: finish what runs, claim nothing new

    def wake(self) -> None:
        self.wakeup.ring()

    async def run(self) -> None:
        while not self._stopping:
            await self.wakeup.wait(self.settings.task_poll_interval_s)
            try:
                await asyncio.to_thread(self.tick)
            except Exception:  # one bad tick must not stop the runner for good
                log.exception("task runner tick failed")

    def drain(self) -> None:
        """Claim no more queued tasks: they stay queued for the next start."""
        self._draining = True

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    # --- one pass, in a worker thread ------------------------------------------------

    def tick(self) -> None:
        now = time.monotonic()
        self._record_ended()
        for task_id, (value, stage, pid) in self.executor.drain_progress().items():
            self.tasks.set_progress(task_id, value, stage, pid)
        if self._started:  # only a process that runs fits has cancels to carry out
            for task_id in self.tasks.cancel_requested_ids(self.owner):
                self.executor.stop(task_id)
        for task_id, started in list(self._started.items()):
            if now - started > self.settings.fit_timeout_s and task_id not in self._timed_out:
                log.warning("task %s passed FIT_TIMEOUT_S; stopping it", task_id)
                self._timed_out.add(task_id)
            if task_id in self._timed_out:
                self.executor.stop(task_id)
        if now - self._last_heartbeat > self.HEARTBEAT_EVERY_S:
            self._last_heartbeat = now
            self.tasks.heartbeat(self.owner)
        if now - self._last_reap > self.REAP_EVERY_S:
            self._last_reap = now
            failed = self.tasks.fail_orphans(self.settings.task_stale_after_s, self.owner)
            if failed:
                log.warning("marked tasks of a gone process as failed: %s", failed)
            for hook in self.on_tick:
                hook()
        while not (self._stopping or self._draining) and self.executor.free_slots() > 0:
            # A slot may have freed since the top of this tick: record that fit's end before
            # the next one counts as running, or FIT_WORKERS+1 tasks show `running` at once.
            self._record_ended()
            row = self.tasks.claim_next(self.owner)
            if row is None:
                break
            try:
                job = request_to_job(row.request)
            except (KeyError, TypeError) as exc:
                self.tasks.finish(row.id, "failed", error=f"task request is unreadable: {exc}")
                continue
            self._started[row.id] = time.monotonic()
            log.info("starting task %s (%s %s)", row.id, job.model_type, job.model_id)
            self.executor.submit(job, self._on_ended)

    def _record_ended(self) -> None:
        while True:
            try:
                ended = self._ended.get_nowait()
            except queue.Empty:
                return
            try:
                self._record_end(ended)
            except Exception as exc:  # the end is dequeued: record it or the task runs forever
                log.exception("recording the end of task %s failed", ended.task_id)
                self.tasks.finish(
                    ended.task_id,
                    "failed",
                    error=f"recording the fit's end failed: {type(exc).__name__}",
                )

    def _on_ended(self, ended: FitEnded) -> None:
        self._ended.put(ended)
        self.wake()

    def _record_end(self, ended: FitEnded) -> None:
        task_id = ended.task_id
        self._started.pop(task_id, None)
        timed_out = task_id in self._timed_out
        self._timed_out.discard(task_id)
        row = self.tasks.row(task_id)
        model_id = row.model_id or ""
        job = request_to_job(row.request)

        if ended.bystander and not row.cancel_requested:
            log.warning("task %s lost its pool to another worker's death; queued again", task_id)
            self.tasks.requeue(task_id)
            return

        if ended.outcome is not None and not row.cancel_requested and not timed_out:
            outcome = ended.outcome
            if "search" in outcome.metrics:  # the model is the best candidate of the grid
                best = outcome.metrics["search"]["best_params"]
                self.registry.update(model_id, params={**job.params, **best})
            if outcome.params is not None:  # the fit chose its own configuration (auto)
                self.registry.update(
                    model_id, params=outcome.params, vectorizer=outcome.vectorizer or job.vectorizer
                )
            self.registry.update(
                model_id,
                status="trained",
                metrics=outcome.metrics,
                classes=outcome.classes,
                artifact_path=Path(job.artifact_path).name,
                artifact_sha256=outcome.artifact_sha256,
                sklearn_version=outcome.sklearn_version,
                python_version=outcome.python_version,
                error=None,
                threshold=outcome.threshold,
                drift_reference=outcome.drift_reference,
                holdout_curve=outcome.holdout,
            )
            result: dict[str, Any] = {"metrics": outcome.metrics, "timings": outcome.timings}
            finisher = self.finishers.get(row.kind)
            if finisher is not None:
                try:
                    result.update(finisher(model_id, row.request, outcome.metrics))
                except Exception as exc:
                    log.exception("finishing task %s failed", task_id)
                    self.tasks.finish(
                        task_id, "failed", error=f"{type(exc).__name__}: {exc}", result=result
                    )
                    return
            self.tasks.finish(task_id, "succeeded", result=result)
            log.info("task %s succeeded: %s", task_id, outcome.metrics)
            return

        with contextlib.suppress(OSError):  # a read-only MODELS_DIR must not lose the task
            Path(job.artifact_path).unlink(missing_ok=True)
        status: TaskStatus
        error: str | None
        if timed_out:
            status, error = (
                "failed",
                (
                    f"the fit ran longer than FIT_TIMEOUT_S={self.settings.fit_timeout_s:g}s "
                    "and was stopped; use fewer features or a simpler model"
                ),
            )
        elif row.cancel_requested or ended.cancelled:
            status, error = "cancelled", None
        elif ended.worker_died:
            status, error = (
                "failed",
                (
                    "the worker process running this fit died (killed, or out of memory); "
                    "the pool was restarted, submit the fit again"
                ),
            )
        else:
            status, error = "failed", describe_failure(ended.error)
        self.registry.update(model_id, status="failed", error=error or "the fit was cancelled")
        self.tasks.finish(task_id, status, error=error)
        log.info("task %s %s: %s", task_id, status, error)


def describe_failure(error: BaseException | None) -> str:
    """A readable reason for a failed fit that names no server paths."""
    if isinstance(error, OSError):
        reason = error.strerror or type(error).__name__
        return (
            f"the server could not read or write its files ({reason}); "
            "check free space and permissions of DATA_DIR and MODELS_DIR"
        )
    return f"{type(error).__name__}: {error}"
