"""Measurements through our API: fit overhead, starvation under fits, memory per model."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from backend_api import TERMINAL, BackendApi
from loadgen import LoadResult, run_wrk
from servers import ServerProcess, rss_bytes

# A deliberately slow fit (character n-grams) for the starvation case: two of them must
# still run when the load ends.
SLOW_FIT_REQUEST: dict[str, Any] = {
    "model_type": "logreg",
    "params": {"C": 10.0, "max_iter": 2000},
    "vectorizer": {
        "type": "tfidf",
        "analyzer": "char_wb",
        "ngram_range": [2, 5],
        "min_df": 2,
        "sublinear_tf": True,
    },
}


@dataclass(frozen=True)
class FitRun:
    model_id: str
    wall_s: float  # client side: POST /fit → the task is seen succeeded
    server_s: float  # the task's finished_at − created_at


@dataclass(frozen=True)
class Starvation:
    load: LoadResult
    coverage: float  # share of the load window during which both fits were running


@dataclass(frozen=True)
class Memory:
    base_rss: int  # no model in memory
    per_default_model: dict[str, int]
    first_load_rss: int  # one extra model loaded
    cycles: int
    before_cycles_rss: int
    after_cycles_rss: int
    checkpoints: list[tuple[int, int]]  # (models loaded and unloaded so far, RSS)

    @property
    def growth(self) -> float:
        return self.after_cycles_rss / self.before_cycles_rss - 1


def parse_time(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def fit_through_api(
    api: BackendApi, dataset_id: str, name: str, fit_request: dict[str, Any]
) -> FitRun:
    """Submit one fit and time it until its task is seen succeeded."""
    started = time.perf_counter()
    accepted = api.submit_fit(dataset_id, name, fit_request)
    task = api.wait_task(accepted["task_id"], {"succeeded"})
    wall_s = time.perf_counter() - started
    if task["status"] != "succeeded":
        raise RuntimeError(f"fit task ended {task['status']}: {task.get('error')}")
    created, finished = parse_time(task["created_at"]), parse_time(task["finished_at"])
    server_s = (finished or 0) - (created or 0)
    return FitRun(accepted["model_id"], wall_s, server_s)


class FitKeeper:
    """Keeps `count` slow fits running: a fit that ends is replaced at once, so the load sees
    them all the time; samples how many run, then cancels them when stopped."""

    def __init__(
        self, api: BackendApi, dataset_id: str, count: int = 2, poll_s: float = 0.25
    ) -> None:
        self.api, self.dataset_id, self.count, self.poll_s = api, dataset_id, count, poll_s
        self.task_ids: list[str] = []
        self.samples: list[tuple[float, int]] = []  # (time, fits running)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, daemon=True, name="fit-keeper")

    def _submit(self) -> str:
        name = f"bench-slow-{len(self.task_ids)}"
        return self.api.submit_fit(self.dataset_id, name, SLOW_FIT_REQUEST)["task_id"]

    def _keep(self) -> None:
        active = [self._submit() for _ in range(self.count)]
        self.task_ids += active
        while not self._stop.is_set():
            statuses = [self.api.task(task_id)["status"] for task_id in active]
            self.samples.append((time.time(), statuses.count("running")))
            for slot, status in enumerate(statuses):
                if status in TERMINAL:
                    active[slot] = self._submit()
                    self.task_ids.append(active[slot])
            self._stop.wait(self.poll_s)

    def start(self, timeout_s: float = 60) -> None:
        """Submit the fits and return once all of them run (or after `timeout_s`)."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self._all_running():
            time.sleep(0.05)

    def _all_running(self) -> bool:
        return bool(self.samples) and self.samples[-1][1] >= self.count

    def coverage(self, window: tuple[float, float]) -> float:
        inside = [running for at, running in self.samples if window[0] <= at <= window[1]]
        return sum(running >= self.count for running in inside) / len(inside) if inside else 0.0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for task_id in self.task_ids:
            self.api.cancel_task(task_id)
        for task_id in self.task_ids:
            self.api.wait_task(task_id, set(), timeout_s=60)


def starvation(
    api: BackendApi, url: str, dataset_id: str, bodies: Path, wrk_options: dict[str, Any]
) -> Starvation:
    """Single-text predicts under wrk while two slow fits run all the time."""
    keeper = FitKeeper(api, dataset_id)
    try:
        keeper.start()
        window_start = time.time()
        load = run_wrk(url, bodies, **wrk_options)
        coverage = keeper.coverage((window_start, time.time()))
    finally:
        keeper.stop()
    return Starvation(load, coverage)


def _settle() -> None:
    time.sleep(0.5)  # let the server finish the request's bookkeeping before reading RSS


def default_model_memory(
    server: ServerProcess, api: BackendApi, text: str, default_ids: list[str]
) -> tuple[int, dict[str, int]]:
    """RSS with no model in memory, and what each default model adds when first used."""
    _settle()
    base = previous = rss_bytes(server)
    added: dict[str, int] = {}
    for model_id in default_ids:
        api.predict(model_id, [text])  # loaded in the database; cached on first use
        _settle()
        current = rss_bytes(server)
        added[model_id] = current - previous
        previous = current
    return base, added


def load_unload_memory(
    server: ServerProcess, api: BackendApi, model_ids: list[str], text: str
) -> tuple[int, int, list[tuple[int, int]]]:
    """RSS before, after the first load, and along the way of loading, using and unloading
    each model in turn (a plateau is the allocator keeping pages, a slope is a leak)."""
    _settle()
    before = first_load = rss_bytes(server)
    checkpoints = []
    marks = {1, 5, 10, 20, 30, 40, len(model_ids)}
    for done, model_id in enumerate(model_ids, start=1):
        api.load(model_id)
        api.predict(model_id, [text])
        if done == 1:
            _settle()
            first_load = rss_bytes(server)
        api.unload(model_id)
        if done in marks:
            _settle()
            checkpoints.append((done, rss_bytes(server)))
    return before, first_load, checkpoints
