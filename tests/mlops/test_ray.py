"""Fits on a Ray cluster (FIT_EXECUTOR=ray): a local head started here, a backend driving it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.backend.api_steps import (
    MODELS,
    SLOW_FIT,
    cancel,
    fit_ok,
    get_model,
    load_ok,
    predictions,
    train,
    wait_fitting,
    wait_task,
)
from tests.conftest import TOXIC_EN
from tests.mlops.conftest import dataset_on, role_client, start_auth_server
from tests.servers import REPO_ROOT, ServerProcess, free_port


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """A local Ray head with 2 CPUs; its address.

    `ray start --block` in a session of its own, so the teardown ends exactly this cluster
    (SIGTERM to it, then its process group and any process still naming its temp dir) and
    not other Ray instances on the machine, which `ray stop --force` would.
    """
    # A short temp dir: Ray's socket paths must stay under the Unix limit of 107 bytes.
    temp_dir = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    port = free_port()
    env = {**os.environ, "RAY_TMPDIR": temp_dir, "PYTHONPATH": str(REPO_ROOT)}
    log_path = Path(temp_dir) / "ray-start.log"
    with log_path.open("wb") as log_file:
        head = subprocess.Popen(
            [
                "ray",
                "start",
                "--head",
                f"--port={port}",
                "--num-cpus=2",
                "--include-dashboard=false",
                "--disable-usage-stats",
                f"--temp-dir={temp_dir}",
                "--block",
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log_path.read_text(errors="replace"):
            assert head.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        stop_ray_head(head, temp_dir)


def stop_ray_head(head: subprocess.Popen[bytes], temp_dir: str) -> None:
    head.send_signal(signal.SIGTERM)  # it drains the node and stops what it started
    try:
        head.wait(60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)
        head.wait(10)
    for process in psutil.process_iter(["pid", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(temp_dir in part for part in process.info["cmdline"] or []):
                process.kill()
    shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_server(ray_head: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_auth_server(
        tmp_path_factory.mktemp("ray") / "data", FIT_EXECUTOR="ray", RAY_ADDRESS=ray_head
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def editor(ray_server: ServerProcess) -> Iterator[httpx.Client]:
    with role_client(ray_server, "editor") as client:
        yield client


def test_a_fit_on_ray_succeeds_and_predicts(
    ray_server: ServerProcess, editor: httpx.Client, small_csv: Path
) -> None:
    model = train(editor, dataset_on(ray_server, small_csv)["id"], "on-ray", params={"C": 2.0})
    assert model["status"] == "trained"
    assert 0.5 < model["metrics"]["accuracy"] <= 1
    assert "fits run on Ray" in (Path(ray_server.env["LOG_DIR"]) / "backend.log").read_text()
    load_ok(editor, model["id"])
    assert set(predictions(editor, model["id"], ["you idiot", "have a nice day"])) <= {0, 1}
    assert editor.post(f"{MODELS}/unload", json={"model_id": model["id"]}).status_code == 200


def test_a_grid_search_on_ray(
    ray_server: ServerProcess, editor: httpx.Client, small_csv: Path
) -> None:
    accepted = fit_ok(
        editor,
        dataset_on(ray_server, small_csv)["id"],
        "searched-on-ray",
        search={"param_grid": {"C": [0.1, 1, 10]}, "cv": 3},
    )
    task = wait_task(editor, accepted["task_id"])
    assert task["status"] == "succeeded", task
    assert task["kind"] == "search"
    best = task["result"]["metrics"]["search"]["best_params"]
    assert best["C"] in (0.1, 1, 10)
    assert get_model(editor, accepted["model_id"])["params"]["C"] == best["C"]


def test_an_auto_fit_on_ray(
    ray_server: ServerProcess, editor: httpx.Client, small_csv: Path
) -> None:
    model = train(
        editor,
        dataset_on(ray_server, small_csv)["id"],
        "auto-on-ray",
        model_type="auto",
        params={"budget_s": 20},
    )
    assert model["status"] == "trained" and model["model_type"] == "auto"
    assert model["params"]["chosen"]["candidates_tried"] >= 1
    assert "threshold" in model["metrics"]


def test_cancel_a_running_fit_on_ray(
    ray_server: ServerProcess, editor: httpx.Client, small_csv: Path
) -> None:
    slow = fit_ok(editor, dataset_on(ray_server, TOXIC_EN)["id"], "slow-on-ray", **SLOW_FIT)
    wait_fitting(editor, slow["task_id"])
    response = cancel(editor, slow["task_id"])
    assert response.status_code == 200, response.text
    task = wait_task(editor, slow["task_id"])
    assert task["status"] == "cancelled", task
    assert get_model(editor, slow["model_id"])["status"] != "trained"
    assert cancel(editor, slow["task_id"]).status_code == 409
    # The cluster still takes fits after its worker was killed.
    after: dict[str, Any] = train(editor, dataset_on(ray_server, small_csv)["id"], "after-cancel")
    assert after["status"] == "trained"
