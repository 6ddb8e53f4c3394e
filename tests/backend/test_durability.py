"""Restarts: models, the loaded set, aliases and tasks survive; a crash fails running tasks."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psutil

from tests.backend.api_steps import (
    DATASETS,
    MODELS,
    SLOW_FIT,
    TASKS,
    assert_error,
    fit_ok,
    get_model,
    get_task,
    load_ok,
    predict,
    predictions,
    train,
    upload_ok,
    wait_fitting,
    wait_task,
)
from tests.conftest import TOXIC_EN, StartServer
from tests.servers import fit_worker_pids

PROBES = ["you are a wonderful person", "shut up you stupid idiot", "see you tomorrow"]


def test_models_loaded_set_aliases_and_tasks_survive_a_restart(
    start_server: StartServer, small_csv: Path
) -> None:
    server = start_server()
    data_dir = Path(server.env["DATA_DIR"])
    with httpx.Client(base_url=server.url, timeout=60) as client:
        dataset = upload_ok(client, small_csv)
        kept_loaded = train(client, dataset["id"], "durable", model_type="svc")
        not_loaded = train(client, dataset["id"], "durable")
        load_ok(client, kept_loaded["id"])
        client.post(f"{MODELS}/{kept_loaded['id']}/promote", json={"alias": "production"})
        before = predictions(client, kept_loaded["id"], PROBES)
        scores_before = predict(client, kept_loaded["id"], PROBES, "predict_scores").json()
        models_before = {m["id"]: m for m in client.get(MODELS).json()}
        tasks_before = {t["id"]: t for t in client.get(TASKS).json()}
    server.stop()

    server = start_server(data_dir)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        models_after = {m["id"]: m for m in client.get(MODELS).json()}
        assert models_after == models_before
        assert models_after[kept_loaded["id"]]["loaded"] is True
        assert models_after[not_loaded["id"]]["loaded"] is False
        assert predictions(client, kept_loaded["id"], PROBES) == before
        scores_after = predict(client, kept_loaded["id"], PROBES, "predict_scores").json()
        # Equal but for the per-call ids of the prediction log.
        assert {**scores_after, "prediction_ids": None} == {**scores_before, "prediction_ids": None}
        assert predict(client, "durable@production", PROBES).json()["model_id"] == kept_loaded["id"]
        assert_error(predict(client, not_loaded["id"], PROBES), 409)
        load_ok(client, not_loaded["id"])
        assert len(predictions(client, not_loaded["id"], PROBES)) == len(PROBES)
        for default_id in ("default-logreg", "default-mnb", "default-svc"):
            assert get_model(client, default_id)["loaded"] is True
        assert {t["id"]: t for t in client.get(TASKS).json()} == tasks_before
        assert dataset["id"] in [d["id"] for d in client.get(DATASETS).json()]
        # The loaded set written after the restart is as durable as before it.
    server.stop()
    server = start_server(data_dir)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        assert get_model(client, not_loaded["id"])["loaded"] is True
        assert train(client, dataset["id"], "after-restarts")["version"] == 1


def test_a_server_killed_mid_fit_fails_the_running_task_and_runs_the_queued(
    start_server: StartServer, small_csv: Path
) -> None:
    server = start_server()
    data_dir = Path(server.env["DATA_DIR"])
    with httpx.Client(base_url=server.url, timeout=60) as client:
        full = upload_ok(client, TOXIC_EN)
        small = upload_ok(client, small_csv)
        running = fit_ok(client, full["id"], "crashed", **SLOW_FIT)
        queued = fit_ok(client, small["id"], "waiting")
        wait_fitting(client, running["task_id"])
        assert get_task(client, queued["task_id"])["status"] == "queued"
        workers = fit_worker_pids(server)
        assert workers
    server.kill()  # SIGKILL of the server process alone, as a crash would do

    # Orphaned fit workers notice that their server is gone and exit.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(
        psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in workers
    ):
        time.sleep(0.2)
    alive = [
        p
        for p in workers
        if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
    ]
    assert not alive, f"fit workers outlived their server: {alive}"

    server = start_server(data_dir)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        task = get_task(client, running["task_id"])
        assert task["status"] == "failed", task
        assert "restart" in task["error"], task["error"]
        assert task["finished_at"].endswith("Z")
        model = get_model(client, running["model_id"])
        assert model["status"] == "failed"
        assert not (data_dir / "models" / f"{running['model_id']}.skops").exists()

        after = wait_task(client, queued["task_id"])
        assert after["status"] == "succeeded", after
        load_ok(client, queued["model_id"])
        assert len(predictions(client, queued["model_id"], PROBES)) == len(PROBES)
        assert train(client, small["id"], "after-crash")["status"] == "trained"
