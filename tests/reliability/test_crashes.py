"""Crashes: SIGKILL a fit worker mid-fit; SIGKILL the server (alone, or with its whole process
group) mid-fit and mid-upload, then restart it. After each: the database is consistent, no
partial artifact or dataset is listed, the task is failed with a reason, and every earlier model
loads and predicts exactly as before."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.conftest import TOXIC_EN
from tests.reliability.conftest import upload_csv, wait_task
from tests.servers import ServerProcess, copy_data_dir, fit_worker_pids, start_backend

PROBES = ["you are a wonderful person", "shut up you idiot", "meh", "", "🙂 ок"]
# How long after the uploads start the server is killed; loops over the crash tests vary it
# to hit every stage of storing (streaming, parsing, writing the file, committing the row).
KILL_DELAY_S = float(os.environ.get("CRASH_KILL_DELAY_S", "0.8"))
SLOW_FIT: dict[str, Any] = {
    "model_type": "logreg",
    "params": {"max_iter": 5000, "C": 100},
    "vectorizer": {"analyzer": "char_wb", "ngram_range": [2, 5]},
}


def _post(server: ServerProcess, path: str, **body: Any) -> dict[str, Any]:
    response = httpx.post(f"{server.url}/api/v1{path}", json=body, timeout=120)
    assert response.status_code in (200, 201, 202), response.text
    return dict(response.json())


def _get(server: ServerProcess, path: str) -> Any:
    response = httpx.get(f"{server.url}/api/v1{path}", timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _outputs(server: ServerProcess, model_ids: list[str]) -> dict[str, Any]:
    """Predictions and scores of each model on the probes (loading it if need be)."""
    outputs = {}
    for model_id in model_ids:
        _post(server, "/models/load", model_id=model_id)
        predicted = _post(server, "/models/predict", model_id=model_id, texts=PROBES)
        scored = _post(server, "/models/predict_scores", model_id=model_id, texts=PROBES)
        outputs[model_id] = (predicted["predictions"], scored["classes"], scored["scores"])
    return outputs


def _start_slow_fit(server: ServerProcess, dataset_id: str, name: str) -> dict[str, Any]:
    accepted = _post(server, "/models/fit", name=name, dataset_id=dataset_id, **SLOW_FIT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # in the worker, past loading the data
        task = _get(server, f"/tasks/{accepted['task_id']}")
        if task["status"] == "running" and task["stage"] in ("vectorizing", "fitting"):
            return accepted
        assert task["status"] in ("queued", "running"), task
        time.sleep(0.05)
    raise AssertionError(f"fit never got going: {task}")


def _wait_exit(pids: list[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [
            p
            for p in pids
            if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes outlived their server: {alive}")


def assert_consistent(data_dir: Path) -> None:
    """The SQLite file is sound and every record matches the files beside it, both ways."""
    with sqlite3.connect(data_dir / "app.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        models = db.execute(
            "SELECT id, status, artifact_path, artifact_sha256 FROM models"
        ).fetchall()
        datasets = db.execute("SELECT id, path FROM datasets").fetchall()
        running = db.execute(
            "SELECT id FROM tasks WHERE status IN ('running', 'queued')"
        ).fetchall()
        training = db.execute("SELECT id FROM models WHERE status = 'training'").fetchall()
    assert running == [] and training == [], (running, training)
    models_dir = data_dir / "models"
    for model_id, status, artifact, sha in models:
        if status == "trained":
            payload = (models_dir / artifact).read_bytes()
            assert hashlib.sha256(payload).hexdigest() == sha, model_id
    trained = {a for _, s, a, _ in models if s == "trained"}
    on_disk = {p.name for p in models_dir.iterdir()}
    assert on_disk == trained, f"model files without a trained record: {on_disk - trained}"
    listed = {path for _, path in datasets}
    stored = {p.name for p in (data_dir / "datasets").iterdir()}
    assert stored == listed, f"dataset files without a record: {stored - listed}"
    assert not list((data_dir / "uploads").iterdir()), "partial uploads left behind"


@pytest.fixture(scope="module")
def crash_server(
    seed_data_dir: Path, small_csv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A server with a trained model of our own beside the defaults, and their outputs.

    Shared by the tests of this module in order: each crashes it, restarts it on the same
    DATA_DIR and leaves the new server in `state["server"]`."""
    data_dir = tmp_path_factory.mktemp("crash") / "data"
    copy_data_dir(seed_data_dir, data_dir)
    server = start_backend(data_dir)
    small = upload_csv(server, small_csv.read_bytes(), "small.csv").json()
    full = upload_csv(server, TOXIC_EN.read_bytes(), "full.csv").json()
    accepted = _post(
        server, "/models/fit", name="before-crash", dataset_id=small["id"], model_type="mnb"
    )
    assert wait_task(server.url, accepted["task_id"])["status"] == "succeeded"
    models = ["default-logreg", "default-mnb", "default-svc", accepted["model_id"]]
    state = {
        "server": server,
        "full": full["id"],
        "small": small["id"],
        "models": models,
        "outputs": _outputs(server, models),
        "datasets": _get(server, "/datasets"),
    }
    yield state
    state["server"].stop()


def _restart(state: dict[str, Any]) -> ServerProcess:
    state["server"].stop()
    state["server"] = start_backend(Path(state["server"].env["DATA_DIR"]))
    return state["server"]


def _restart_and_check(state: dict[str, Any], interrupted: dict[str, Any] | None) -> ServerProcess:
    data_dir = Path(state["server"].env["DATA_DIR"])
    server = state["server"] = start_backend(data_dir)
    if interrupted is not None:
        task = _get(server, f"/tasks/{interrupted['task_id']}")
        assert task["status"] == "failed" and "restart" in task["error"], task
        model = _get(server, f"/models/{interrupted['model_id']}")
        assert model["status"] == "failed" and not model["loaded"], model
    assert _get(server, "/datasets") == state["datasets"], "datasets changed over the crash"
    assert _outputs(server, state["models"]) == state["outputs"]
    server.stop()
    assert_consistent(data_dir)
    state["server"] = start_backend(data_dir)
    return state["server"]


def test_fit_worker_killed_mid_fit(crash_server: dict[str, Any]) -> None:
    server: ServerProcess = crash_server["server"]
    accepted = _start_slow_fit(server, crash_server["full"], "worker-dies")
    [worker] = fit_worker_pids(server)
    os.kill(worker, signal.SIGKILL)
    task = wait_task(server.url, accepted["task_id"], timeout=60)
    assert task["status"] == "failed" and "died" in task["error"], task
    assert _get(server, f"/models/{accepted['model_id']}")["status"] == "failed"
    assert _outputs(server, crash_server["models"]) == crash_server["outputs"]
    # the pool came back: a new fit runs
    again = _post(server, "/models/fit", name="after-worker", dataset_id=crash_server["small"])
    assert wait_task(server.url, again["task_id"])["status"] == "succeeded"
    server.stop()
    assert_consistent(Path(server.env["DATA_DIR"]))
    crash_server["datasets"] = _get(_restart(crash_server), "/datasets")


@pytest.mark.parametrize("how", ["server only", "whole process group"])
def test_server_killed_mid_fit(crash_server: dict[str, Any], how: str) -> None:
    server: ServerProcess = crash_server["server"]
    accepted = _start_slow_fit(server, crash_server["full"], "server-dies")
    workers = fit_worker_pids(server)
    server.kill() if how == "server only" else server.kill_group()
    _wait_exit(workers)  # orphaned fit workers notice their server is gone
    _restart_and_check(crash_server, accepted)


def test_server_killed_mid_upload(crash_server: dict[str, Any], small_csv: Path) -> None:
    server: ServerProcess = crash_server["server"]
    sent, killed = threading.Event(), threading.Event()
    content = small_csv.read_bytes()

    def slow_body() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
        yield content[: len(content) // 2]
        sent.set()
        while not killed.wait(0.1):  # the rest never comes: the server dies first
            yield b""
        yield content[len(content) // 2 :] + b"\r\n--b--\r\n"

    def upload() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(
                f"{server.url}/api/v1/datasets",
                content=slow_body(),
                timeout=60,
                headers={"content-type": "multipart/form-data; boundary=b"},
            )

    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()
    assert sent.wait(30)
    time.sleep(0.5)  # the first half is in the server's temp file
    server.kill()
    killed.set()
    uploader.join(60)
    _restart_and_check(crash_server, None)


def test_server_killed_while_storing_datasets(crash_server: dict[str, Any]) -> None:
    """Kill while several full-size uploads are being parsed and stored."""
    server: ServerProcess = crash_server["server"]
    payload = TOXIC_EN.read_bytes()
    results: list[Any] = []

    def upload() -> None:
        try:
            results.append(upload_csv(server, payload, "full.csv").status_code)
        except httpx.HTTPError as exc:
            results.append(exc)

    threads = [threading.Thread(target=upload, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(KILL_DELAY_S)
    server.kill()
    for thread in threads:
        thread.join(60)
    data_dir = Path(server.env["DATA_DIR"])
    restarted = crash_server["server"] = start_backend(data_dir)
    listed = _get(restarted, "/datasets")
    finished = [r for r in results if r == 201]
    # Uploads answered 201 before the kill are listed whole; the others are not listed at all.
    assert len(listed) >= len(crash_server["datasets"]) + len(finished)
    for dataset in listed:
        assert dataset["rows"] > 0
    assert _outputs(restarted, crash_server["models"]) == crash_server["outputs"]
    restarted.stop()
    assert_consistent(data_dir)
