"""Reliability tests (issue 7): fuzzing, bad inputs, crashes, storage faults, load, access.

Cases that need over a minute are marked `slow` and left out of the default run:
    python -m pytest tests/reliability -m slow
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.servers import ServerProcess


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: over a minute; run with `pytest -m slow`")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave `slow` cases out unless the marker expression asks for them (`-m slow`)."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [i for i in items if i.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [i for i in items if not i.get_closest_marker("slow")]


def wait_task(
    url: str,
    task_id: str,
    *,
    timeout: float = 120,
    headers: Any = None,
    until: tuple[str, ...] = ("succeeded", "failed", "cancelled"),
) -> dict[str, Any]:
    """Poll a task until its status is one of `until`; return its TaskInfo."""
    deadline = time.monotonic() + timeout
    task: dict[str, Any] = {}
    while time.monotonic() < deadline:
        task = httpx.get(f"{url}/api/v1/tasks/{task_id}", headers=headers, timeout=30).json()
        if task["status"] in until:
            return task
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} not in {until} after {timeout}s: {task}")


def upload_csv(
    server: ServerProcess,
    content: bytes,
    filename: str = "data.csv",
    headers: Any = None,
    **form: str,
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/datasets",
        headers=headers,
        timeout=120,
        files={"file": (filename, content, "text/csv")},
        data=form,
    )


def assert_healthy(server: ServerProcess) -> None:
    """The process is alive, /health and /ready answer 200 and a default model predicts."""
    assert server.process.poll() is None, server.log()[-3000:]
    assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
    ready = httpx.get(f"{server.url}/ready", timeout=10)
    assert ready.status_code == 200, ready.text
    predicted = httpx.post(
        f"{server.url}/api/v1/models/predict",
        timeout=30,
        json={"model_id": "default-logreg", "texts": ["you are nice"]},
    )
    assert predicted.status_code == 200, predicted.text
