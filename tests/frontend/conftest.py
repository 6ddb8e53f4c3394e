"""Frontend fixtures: AppTest against the real backend, and a real Streamlit server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.servers import REPO_ROOT, ServerProcess, start_backend

APP_PATH = REPO_ROOT / "frontend" / "app.py"
APP_TIMEOUT_S = 60


def wait_task(http: httpx.Client, task_id: str, timeout: float = 120) -> dict[str, Any]:
    """Poll a task until it ends; returns its last TaskInfo."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = http.get(f"/api/v1/tasks/{task_id}").raise_for_status().json()
        if task["status"] not in ("queued", "running"):
            return task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} still running after {timeout}s")


@pytest.fixture(scope="session")
def seeded(backend: ServerProcess, small_csv: Path) -> dict[str, Any]:
    """A dataset from small_csv and one trained, loaded logreg model on it."""
    with httpx.Client(base_url=backend.url, timeout=60) as http:
        dataset = (
            http.post(
                "/api/v1/datasets",
                files={"file": ("small.csv", small_csv.read_bytes(), "text/csv")},
                data={"name": "frontend-small"},
            )
            .raise_for_status()
            .json()
        )
        accepted = (
            http.post(
                "/api/v1/models/fit",
                json={
                    "name": "frontend-logreg",
                    "dataset_id": dataset["id"],
                    "model_type": "logreg",
                    "params": {},
                    "vectorizer": {"type": "tfidf"},
                },
            )
            .raise_for_status()
            .json()
        )
        task = wait_task(http, accepted["task_id"])
        assert task["status"] == "succeeded", task
        http.post("/api/v1/models/load", json={"model_id": accepted["model_id"]}).raise_for_status()
    return {"dataset": dataset, "model_id": accepted["model_id"], "task_id": accepted["task_id"]}


@pytest.fixture()
def frontend_env(
    backend: ServerProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> ServerProcess:
    """Point the in-process frontend (AppTest) at the test backend."""
    monkeypatch.setenv("BACKEND_URL", backend.url)
    monkeypatch.delenv("API_TOKEN", raising=False)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "log"))
    return backend


@pytest.fixture()
def app(frontend_env: ServerProcess) -> AppTest:
    """The whole app, run once on its default page."""
    at = AppTest.from_file(APP_PATH, default_timeout=APP_TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    """Switch to `pages/<page>.py` and run it; fails on any uncaught exception."""
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [exc.value for exc in at.exception]
    return at


def texts_of(elements: Any) -> list[str]:
    """The `.value` of each element, as strings."""
    return [str(element.value) for element in elements]


# Tokens of the signed-in tests (16+ characters, one per role, as the backend requires).
TOKENS = {
    "viewer": "ui-viewer-token-5b1d07",
    "editor": "ui-editor-token-c93e41",
    "admin": "ui-admin-token-77a0f2e",
}


@pytest.fixture(scope="session")
def token_backend(tmp_path_factory: pytest.TempPathFactory, small_csv: Path) -> Any:
    """A backend with API_TOKENS (no default models, so it starts fast) holding one dataset
    and one trained model, made with the editor token. Yields (server, seeded ids)."""
    server = start_backend(
        tmp_path_factory.mktemp("token-backend"),
        API_TOKENS=",".join(f"{role}:{token}" for role, token in TOKENS.items()),
        DEFAULT_MODELS="false",
    )
    headers = {"Authorization": f"Bearer {TOKENS['editor']}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        dataset = (
            http.post(
                "/api/v1/datasets",
                files={"file": ("small.csv", small_csv.read_bytes(), "text/csv")},
                data={
                    "name": "signed-in-small",
                    "label_names": '{"0": "not toxic", "1": "toxic"}',
                },
            )
            .raise_for_status()
            .json()
        )
        accepted = (
            http.post(
                "/api/v1/models/fit",
                json={"name": "signed-in-mnb", "dataset_id": dataset["id"], "model_type": "mnb"},
            )
            .raise_for_status()
            .json()
        )
        assert wait_task(http, accepted["task_id"])["status"] == "succeeded"
    yield server, {"dataset": dataset, "model_id": accepted["model_id"]}
    server.stop()
