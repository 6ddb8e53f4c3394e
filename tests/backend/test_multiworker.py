"""`uvicorn --workers 2` behaves like one worker: the loaded set, fits and cancels are shared.

Every request below opens a new connection, so the kernel spreads them over both processes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.api_steps import (
    MODELS,
    SLOW_FIT,
    TASKS,
    fit_ok,
    upload_ok,
)
from tests.conftest import TOXIC_EN
from tests.servers import ServerProcess, copy_data_dir, start_backend

PROBES = ["you are a wonderful person", "shut up you stupid idiot"]
ROUNDS = 30


def fresh(server: ServerProcess) -> httpx.Client:
    """A client whose every request uses a new connection."""
    return httpx.Client(
        base_url=server.url, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
    )


def wait_status(
    server: ServerProcess, task_id: str, statuses: set[str], stages: set[str] | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    with fresh(server) as client:
        while time.monotonic() < deadline:
            task = client.get(f"{TASKS}/{task_id}").json()
            if task["status"] in statuses and (stages is None or task["stage"] in stages):
                return dict(task)
            time.sleep(0.1)
    raise AssertionError(f"task {task_id} never reached {statuses}: {task}")


@pytest.fixture(scope="module")
def two_workers(seed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("multiworker") / "data"
    copy_data_dir(seed_data_dir, data_dir)
    server = start_backend(data_dir, workers=2)
    yield server
    server.stop()


def test_fit_load_predict_unload_across_processes(
    two_workers: ServerProcess, small_csv: Path
) -> None:
    with fresh(two_workers) as client:
        dataset = upload_ok(client, small_csv)
        accepted = fit_ok(client, dataset["id"], "shared")
    task = wait_status(two_workers, accepted["task_id"], {"succeeded", "failed", "cancelled"})
    assert task["status"] == "succeeded", task
    model_id = accepted["model_id"]

    with fresh(two_workers) as client:
        loaded = client.post(f"{MODELS}/load", json={"model_id": model_id})
        assert loaded.status_code == 200, loaded.text
        answers = [
            client.post(f"{MODELS}/predict", json={"model_id": model_id, "texts": PROBES})
            for _ in range(ROUNDS)
        ]
        assert [a.status_code for a in answers] == [200] * ROUNDS, [a.text for a in answers]
        assert len({tuple(a.json()["predictions"]) for a in answers}) == 1
        infos = [client.get(f"{MODELS}/{model_id}").json()["loaded"] for _ in range(10)]
        assert infos == [True] * 10

        unloaded = client.post(f"{MODELS}/unload", json={"model_id": model_id})
        assert unloaded.status_code == 200, unloaded.text
        answers = [
            client.post(f"{MODELS}/predict", json={"model_id": model_id, "texts": PROBES})
            for _ in range(ROUNDS)
        ]
        assert [a.status_code for a in answers] == [409] * ROUNDS, [a.text for a in answers]

        # And back: loaded again, served again everywhere.
        assert client.post(f"{MODELS}/load", json={"model_id": model_id}).status_code == 200
        answers = [
            client.post(f"{MODELS}/predict", json={"model_id": model_id, "texts": PROBES})
            for _ in range(ROUNDS)
        ]
        assert [a.status_code for a in answers] == [200] * ROUNDS, [a.text for a in answers]


def test_several_fits_succeed(two_workers: ServerProcess, small_csv: Path) -> None:
    with fresh(two_workers) as client:
        dataset = upload_ok(client, small_csv)
        accepted = [
            fit_ok(client, dataset["id"], f"multi-{i}", model_type=kind)
            for i, kind in enumerate(("logreg", "mnb", "svc", "logreg"))
        ]
    for one in accepted:
        task = wait_status(two_workers, one["task_id"], {"succeeded", "failed", "cancelled"})
        assert task["status"] == "succeeded", task


def test_cancel_from_any_process_stops_a_running_fit(two_workers: ServerProcess) -> None:
    with fresh(two_workers) as client:
        dataset = upload_ok(client, TOXIC_EN)
        accepted = fit_ok(client, dataset["id"], "multi-cancel", **SLOW_FIT)
    wait_status(two_workers, accepted["task_id"], {"running"}, {"vectorizing", "fitting"})
    with fresh(two_workers) as client:
        response = client.post(f"{TASKS}/{accepted['task_id']}/cancel")
        assert response.status_code == 200, response.text
    task = wait_status(two_workers, accepted["task_id"], {"succeeded", "failed", "cancelled"})
    assert task["status"] == "cancelled", task
    with fresh(two_workers) as client:
        assert client.get(f"{MODELS}/{accepted['model_id']}").json()["status"] == "failed"
        again = client.post(f"{TASKS}/{accepted['task_id']}/cancel")
        assert again.status_code == 409
