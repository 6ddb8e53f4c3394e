"""/api/v1/tasks: the queue, cancel (queued and running), a killed worker, the fit timeout."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from backend.ml.training import WORKER_NICENESS
from tests.backend.api_steps import (
    ENDED,
    SLOW_FIT,
    TASKS,
    assert_error,
    cancel,
    fit_ok,
    get_model,
    get_task,
    train,
    upload_ok,
    wait_fitting,
    wait_task,
)
from tests.conftest import TOXIC_EN, StartServer
from tests.servers import ServerProcess, fit_worker_pids

TASK_FIELDS = {
    "id",
    "kind",
    "model_id",
    "status",
    "progress",
    "stage",
    "error",
    "result",
    "created_at",
    "started_at",
    "finished_at",
}


def wait_gone(pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} is still alive")


def test_list_and_get(client: httpx.Client, small_dataset: dict[str, Any]) -> None:
    first = fit_ok(client, small_dataset["id"], "tasks-list-1")
    second = fit_ok(client, small_dataset["id"], "tasks-list-2")
    wait_task(client, first["task_id"])
    done = wait_task(client, second["task_id"])
    assert set(done) >= TASK_FIELDS
    assert done["kind"] == "fit"
    assert done["status"] == "succeeded" and done["progress"] == 1.0 and done["error"] is None
    assert done["result"]["metrics"]["accuracy"] > 0.5
    for stamp in ("created_at", "started_at", "finished_at"):
        assert done[stamp].endswith("Z"), (stamp, done[stamp])
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]

    for path in (TASKS, TASKS + "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        listed = response.json()
        ids = [t["id"] for t in listed]
        assert ids.index(second["task_id"]) < ids.index(first["task_id"])  # newest first
        created = [t["created_at"] for t in listed]
        assert created == sorted(created, reverse=True)
        for task in listed:
            assert task["created_at"].endswith("Z")
    assert_error(client.get(f"{TASKS}/task_missing"), 404, "task_missing")
    assert_error(cancel(client, "task_missing"), 404)
    assert_error(cancel(client, second["task_id"]), 409, "ended")


def test_fits_over_the_pool_size_queue_and_all_succeed(
    client: httpx.Client,
    backend: ServerProcess,
    full_dataset: dict[str, Any],
    small_dataset: dict[str, Any],
) -> None:
    assert backend.env["FIT_WORKERS"] == "1"
    submitted = [
        fit_ok(client, full_dataset["id"], "queue-1"),  # a few seconds: the others wait
        fit_ok(client, small_dataset["id"], "queue-2"),
        fit_ok(client, small_dataset["id"], "queue-3"),
    ]
    statuses = [get_task(client, s["task_id"])["status"] for s in submitted]
    assert statuses[1:] == ["queued", "queued"], statuses
    assert get_task(client, submitted[1]["task_id"])["stage"] == "queued"

    seen: dict[str, set[str]] = {s["task_id"]: set() for s in submitted}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        # One list request is one snapshot; a GET per task could see the first still running
        # and the next already running, a moment apart.
        listed = client.get("/api/v1/tasks/").json()
        tasks = [task for task in listed if task["id"] in seen]
        assert len(tasks) == len(seen), listed
        for task in tasks:
            seen[task["id"]].add(task["status"])
        assert sum(t["status"] == "running" for t in tasks) <= 1, tasks
        if all(t["status"] in ENDED for t in tasks):
            break
        time.sleep(0.05)
    for task in tasks:
        assert task["status"] == "succeeded", task
    assert "queued" in seen[submitted[2]["task_id"]]
    assert get_model(client, submitted[2]["model_id"])["status"] == "trained"


def test_cancel_a_queued_and_a_running_fit(
    client: httpx.Client,
    backend: ServerProcess,
    full_dataset: dict[str, Any],
    small_dataset: dict[str, Any],
) -> None:
    running = fit_ok(client, full_dataset["id"], "cancel-running", **SLOW_FIT)
    queued = fit_ok(client, small_dataset["id"], "cancel-queued")
    wait_fitting(client, running["task_id"])
    assert get_task(client, queued["task_id"])["status"] == "queued"

    response = cancel(client, queued["task_id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert get_task(client, queued["task_id"])["status"] == "cancelled"
    assert get_model(client, queued["model_id"])["status"] == "failed"

    [worker] = fit_worker_pids(backend)
    response = cancel(client, running["task_id"])
    assert response.status_code == 200, response.text
    task = wait_task(client, running["task_id"])
    assert task["status"] == "cancelled", task
    assert task["finished_at"].endswith("Z")
    wait_gone(worker)  # the worker was stopped, not left to finish the fit
    model = get_model(client, running["model_id"])
    assert model["status"] == "failed"
    artifact = Path(backend.env["DATA_DIR"]) / "models" / f"{running['model_id']}.skops"
    assert not artifact.exists()
    assert_error(cancel(client, running["task_id"]), 409)
    assert_error(cancel(client, queued["task_id"]), 409)

    # The pool is whole again and the cancelled queued task never ran.
    assert train(client, small_dataset["id"], "after-cancel")["status"] == "trained"
    assert get_task(client, queued["task_id"])["started_at"] is None


def test_a_worker_killed_mid_fit_fails_its_task_and_the_pool_recovers(
    client: httpx.Client,
    backend: ServerProcess,
    full_dataset: dict[str, Any],
    small_dataset: dict[str, Any],
) -> None:
    accepted = fit_ok(client, full_dataset["id"], "killed-worker", **SLOW_FIT)
    wait_fitting(client, accepted["task_id"])
    [worker] = fit_worker_pids(backend)
    # A fit yields a shared core to serving: its worker runs niced (training.init_worker).
    server_nice = psutil.Process(backend.process.pid).nice()
    assert psutil.Process(worker).nice() == min(19, server_nice + WORKER_NICENESS)
    os.kill(worker, signal.SIGKILL)

    task = wait_task(client, accepted["task_id"], timeout=60)
    assert task["status"] == "failed", task
    assert "worker" in task["error"] and "died" in task["error"], task["error"]
    assert get_model(client, accepted["model_id"])["status"] == "failed"
    assert client.get("/health").status_code == 200

    followed = train(client, small_dataset["id"], "after-killed-worker")
    assert followed["status"] == "trained"
    assert worker not in fit_worker_pids(backend)


def test_fit_timeout_fails_the_task(start_server: StartServer) -> None:
    server = start_server(FIT_TIMEOUT_S="1")
    with httpx.Client(base_url=server.url, timeout=60) as client:
        dataset = upload_ok(client, TOXIC_EN)
        accepted = fit_ok(client, dataset["id"], "too-slow", **SLOW_FIT)
        task = wait_task(client, accepted["task_id"], timeout=60)
        assert task["status"] == "failed", task
        assert "FIT_TIMEOUT_S" in task["error"] and "longer" in task["error"], task["error"]
        model = get_model(client, accepted["model_id"])
        assert model["status"] == "failed"
        assert client.get("/ready").status_code == 200
