"""The few calls of our HTTP API (API.md) the benchmark makes, on an open service."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

TERMINAL = {"succeeded", "failed", "cancelled"}


class BackendApi:
    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=120)

    def close(self) -> None:
        self.client.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} → {response.status_code}: {response.text[:500]}")
        return response.json()

    def upload_dataset(self, csv_path: Path, name: str) -> dict[str, Any]:
        with csv_path.open("rb") as file:
            files = {"file": (csv_path.name, file, "text/csv")}
            return dict(self._json("POST", "/api/v1/datasets", files=files, data={"name": name}))

    def submit_fit(self, dataset_id: str, name: str, fit_request: dict[str, Any]) -> dict[str, str]:
        body = {"name": name, "dataset_id": dataset_id, **fit_request}
        return dict(self._json("POST", "/api/v1/models/fit", json=body))

    def task(self, task_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/api/v1/tasks/{task_id}"))

    def wait_task(
        self, task_id: str, statuses: set[str], poll_s: float = 0.02, timeout_s: float = 600
    ) -> dict[str, Any]:
        """Poll the task until its status is one of `statuses` (or it ended otherwise)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            task = self.task(task_id)
            if task["status"] in statuses or task["status"] in TERMINAL:
                return task
            time.sleep(poll_s)
        raise TimeoutError(f"task {task_id} still not {sorted(statuses)} after {timeout_s} s")

    def cancel_task(self, task_id: str) -> None:
        response = self.client.post(f"/api/v1/tasks/{task_id}/cancel")
        if response.status_code not in (200, 409):  # 409: it already ended
            raise RuntimeError(f"cancel {task_id} → {response.status_code}: {response.text}")

    def load(self, model_id: str) -> dict[str, Any]:
        return dict(self._json("POST", "/api/v1/models/load", json={"model_id": model_id}))

    def unload(self, model_id: str) -> dict[str, Any]:
        return dict(self._json("POST", "/api/v1/models/unload", json={"model_id": model_id}))

    def predict(self, model_id: str, texts: list[str]) -> list[Any]:
        body = {"model_id": model_id, "texts": texts}
        return list(self._json("POST", "/api/v1/models/predict", json=body)["predictions"])

    def download(self, model_id: str) -> bytes:
        response = self.client.get(f"/api/v1/models/{model_id}/download")
        response.raise_for_status()
        return response.content

    def upload_model(self, payload: bytes, name: str) -> dict[str, Any]:
        files = {"file": (f"{name}.skops", payload, "application/octet-stream")}
        return dict(self._json("POST", "/api/v1/models/upload", files=files, data={"name": name}))

    def remove(self, model_id: str) -> None:
        self._json("POST", "/api/v1/models/remove", json={"model_id": model_id})


def mlflow_predict(base_url: str, texts: list[str]) -> list[Any]:
    response = httpx.post(f"{base_url}/invocations", json={"inputs": texts}, timeout=120)
    response.raise_for_status()
    return list(response.json()["predictions"])
