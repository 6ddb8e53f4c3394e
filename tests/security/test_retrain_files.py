"""Retrain split files go on every outcome and at start; an uploaded champion retrains.

On SQLite and PostgreSQL, over HTTP. One fit worker: a slow fit holds it so that a retrain
can be cancelled while queued, or made to fail by removing its champion's data meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.api_steps import SLOW_FIT, wait_task
from tests.conftest import TOXIC_EN
from tests.mlops.conftest import role_client, start_auth_server
from tests.security.conftest import csv_bytes
from tests.servers import ServerProcess


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def retrain_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = start_auth_server(
        tmp_path_factory.mktemp(f"retrain-{request.param}"), request.param, FIT_WORKERS="1"
    )
    yield server
    server.stop()


def split_files(server: ServerProcess) -> list[str]:
    folder = Path(server.env["DATA_DIR"]) / "datasets"
    return sorted(p.name for p in folder.glob("retrain_*"))


def wait_no_split_files(server: ServerProcess, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while split_files(server) and time.monotonic() < deadline:
        time.sleep(0.5)
    return split_files(server)


def upload(client: httpx.Client, payload: bytes, name: str) -> str:
    response = client.post(
        "/api/v1/datasets",
        data={"name": name},
        files={"file": (f"{name}.csv", payload, "text/csv")},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def rows(offset: int, n: int = 40) -> bytes:
    texts = ["you are kind", "nice work", "you idiot", "shut up fool"]
    return csv_bytes([(f"{texts[i % 4]} {offset + i}", str(int(i % 4 >= 2))) for i in range(n)])


def champion(client: httpx.Client, name: str, dataset_id: str) -> str:
    accepted = client.post(
        "/api/v1/models/fit", json={"name": name, "dataset_id": dataset_id, "model_type": "mnb"}
    ).json()
    assert wait_task(client, accepted["task_id"])["status"] == "succeeded"
    promoted = client.post(
        f"/api/v1/models/{accepted['model_id']}/promote", json={"alias": "production"}
    )
    assert promoted.status_code == 200, promoted.text
    return str(accepted["model_id"])


def blocker(client: httpx.Client, dataset_id: str) -> dict[str, Any]:
    """A slow fit that holds the only fit worker until cancelled."""
    accepted = client.post(
        "/api/v1/models/fit", json={"name": "blocker", "dataset_id": dataset_id, **SLOW_FIT}
    ).json()
    wait_task(client, accepted["task_id"], {"running"})
    return dict(accepted)


def test_split_files_go_on_every_outcome(retrain_server: ServerProcess) -> None:
    with role_client(retrain_server, "admin") as admin:
        old_data = upload(admin, rows(0), "old")
        new_data = upload(admin, rows(1000), "new")
        big = upload(admin, TOXIC_EN.read_bytes(), "big")
        champion(admin, "gated", old_data)

        # Success: the gate decides, then the files go.
        done = admin.post("/api/v1/models/retrain", json={"name": "gated", "dataset_id": new_data})
        assert done.status_code == 202, done.text
        assert wait_task(admin, done.json()["task_id"])["status"] == "succeeded"
        assert wait_no_split_files(retrain_server) == []

        # Cancelled while queued behind a slow fit.
        slow = blocker(admin, big)
        queued = admin.post(
            "/api/v1/models/retrain", json={"name": "gated", "dataset_id": new_data}
        )
        assert queued.status_code == 202, queued.text
        assert len(split_files(retrain_server)) == 2
        cancel = admin.post(f"/api/v1/tasks/{queued.json()['task_id']}/cancel")
        assert cancel.json()["status"] == "cancelled", cancel.text
        assert wait_no_split_files(retrain_server) == []

        # Failed: the champion's own data disappears before the challenger's fit reads it.
        failing = admin.post(
            "/api/v1/models/retrain", json={"name": "gated", "dataset_id": new_data}
        )
        assert failing.status_code == 202, failing.text
        assert admin.delete(f"/api/v1/datasets/{old_data}").status_code == 200
        admin.post(f"/api/v1/tasks/{slow['task_id']}/cancel")
        ended = wait_task(admin, failing.json()["task_id"])
        assert ended["status"] in ("failed", "succeeded"), ended
        assert wait_no_split_files(retrain_server) == []

        # Cancelled while running.
        running = admin.post("/api/v1/models/retrain", json={"name": "gated", "dataset_id": big})
        assert running.status_code == 202, running.text
        wait_task(admin, running.json()["task_id"], {"running"})
        admin.post(f"/api/v1/tasks/{running.json()['task_id']}/cancel")
        assert wait_task(admin, running.json()["task_id"])["status"] in ("cancelled", "succeeded")
        assert wait_no_split_files(retrain_server) == []


def test_orphan_split_files_are_removed_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_auth_server(data_dir, FIT_WORKERS="1")
    with role_client(server, "admin") as admin:
        recorded = upload(admin, rows(100), "recorded")
    server.stop()
    folder = data_dir / "datasets"
    for name in ("retrain_0123456789abcdef-train.csv", "retrain_0123456789abcdef-holdout.csv"):
        (folder / name).write_text("text,label\na,0\n")
    keep = folder / f"{recorded}.csv"  # a recorded dataset's file stays
    unrecorded = folder / "unrelated.csv"  # a file no record vouches for goes (issue 11)
    unrecorded.write_text("text,label\n")
    server = start_auth_server(data_dir, FIT_WORKERS="1")
    try:
        assert split_files(server) == []
        assert keep.exists() and not unrecorded.exists()
    finally:
        server.stop()


def test_retrain_of_an_uploaded_champion(retrain_server: ServerProcess) -> None:
    with role_client(retrain_server, "admin") as admin:
        first = upload(admin, rows(2000), "upl-old")
        fresh = upload(admin, rows(3000), "upl-new")
        for model_type in ("logreg", "svc"):
            fitted = admin.post(
                "/api/v1/models/fit",
                json={"name": f"src-{model_type}", "dataset_id": first, "model_type": model_type},
            ).json()
            assert wait_task(admin, fitted["task_id"])["status"] == "succeeded"
            payload = admin.get(f"/api/v1/models/{fitted['model_id']}/download").content
            uploaded = admin.post(
                "/api/v1/models/upload",
                data={"name": f"up-{model_type}"},
                files={"file": ("m.skops", payload, "application/octet-stream")},
            )
            assert uploaded.status_code == 200, uploaded.text
            promoted = admin.post(
                f"/api/v1/models/{uploaded.json()['id']}/promote", json={"alias": "production"}
            )
            assert promoted.status_code == 200, promoted.text
            response = admin.post(
                "/api/v1/models/retrain", json={"name": f"up-{model_type}", "dataset_id": fresh}
            )
            assert response.status_code in (202, 400, 409), response.text
            if response.status_code == 202:
                task = wait_task(admin, response.json()["task_id"])
                assert task["status"] == "succeeded", task
                assert task["result"]["decision"] in ("promoted", "kept")
            else:
                assert "retrain" in response.json()["detail"]
