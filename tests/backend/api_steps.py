"""Steps the backend tests take over HTTP: upload, fit, wait for a task, load, predict."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

DATASETS = "/api/v1/datasets"
MODELS = "/api/v1/models"
TASKS = "/api/v1/tasks"
ENDED = frozenset({"succeeded", "failed", "cancelled"})
DEFAULT_IDS = ("default-logreg", "default-mnb", "default-svc")
# Texts that every model must score: praise, insults, neutral, hate, and the empty text.
PROBES = [
    "you are a wonderful person",
    "shut up you stupid idiot",
    "the weather is fine",
    "I hate you and everyone like you",
    "",
]

# Several seconds on the full toxic_en.csv (vectorizing alone takes a few), so tests can act
# while it runs; every test stops it long before it would finish.
SLOW_FIT: dict[str, Any] = {
    "model_type": "logreg",
    "params": {"max_iter": 5000, "C": 100},
    "vectorizer": {"analyzer": "char_wb", "ngram_range": [2, 5]},
}


def upload(
    client: httpx.Client, source: Path | bytes, filename: str = "data.csv", **form: str
) -> httpx.Response:
    payload = source.read_bytes() if isinstance(source, Path) else source
    return client.post(DATASETS, files={"file": (filename, payload, "text/csv")}, data=form)


def upload_ok(client: httpx.Client, source: Path | bytes, **form: str) -> dict[str, Any]:
    response = upload(client, source, **form)
    assert response.status_code == 201, response.text
    return dict(response.json())


def submit_fit(client: httpx.Client, dataset_id: str, name: str, **body: Any) -> httpx.Response:
    return client.post(f"{MODELS}/fit", json={"name": name, "dataset_id": dataset_id, **body})


def fit_ok(client: httpx.Client, dataset_id: str, name: str, **body: Any) -> dict[str, str]:
    response = submit_fit(client, dataset_id, name, **body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) >= {"task_id", "model_id"}
    return dict(accepted)


def get_task(client: httpx.Client, task_id: str) -> dict[str, Any]:
    response = client.get(f"{TASKS}/{task_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_task(
    client: httpx.Client,
    task_id: str,
    statuses: frozenset[str] | set[str] = ENDED,
    *,
    stages: set[str] | None = None,
    timeout: float = 180,
) -> dict[str, Any]:
    """Poll a task until its status is in `statuses` (and its stage in `stages`, if given)."""
    deadline = time.monotonic() + timeout
    task = get_task(client, task_id)
    while time.monotonic() < deadline:
        if task["status"] in statuses and (stages is None or task["stage"] in stages):
            return task
        if task["status"] in ENDED and task["status"] not in statuses:
            break
        time.sleep(0.1)
        task = get_task(client, task_id)
    raise AssertionError(f"task {task_id} never reached {sorted(statuses)}/{stages}: {task}")


def wait_fitting(client: httpx.Client, task_id: str) -> dict[str, Any]:
    """Wait until a fit is running inside its worker (past loading the data)."""
    return wait_task(client, task_id, {"running"}, stages={"vectorizing", "fitting"})


def get_model(client: httpx.Client, model_id: str) -> dict[str, Any]:
    response = client.get(f"{MODELS}/{model_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def train(client: httpx.Client, dataset_id: str, name: str, **body: Any) -> dict[str, Any]:
    """Fit, wait for success, and return the trained model's ModelInfo."""
    accepted = fit_ok(client, dataset_id, name, **body)
    task = wait_task(client, accepted["task_id"])
    assert task["status"] == "succeeded", task
    return get_model(client, accepted["model_id"])


def load(client: httpx.Client, model_id: str) -> httpx.Response:
    return client.post(f"{MODELS}/load", json={"model_id": model_id})


def unload(client: httpx.Client, model_id: str) -> httpx.Response:
    return client.post(f"{MODELS}/unload", json={"model_id": model_id})


def load_ok(client: httpx.Client, model_id: str) -> dict[str, Any]:
    response = load(client, model_id)
    assert response.status_code == 200, response.text
    assert response.json()["loaded"] is True
    return dict(response.json())


def predict(
    client: httpx.Client, model_id: str, texts: list[str], route: str = "predict"
) -> httpx.Response:
    return client.post(f"{MODELS}/{route}", json={"model_id": model_id, "texts": texts})


def predictions(client: httpx.Client, model_id: str, texts: list[str]) -> list[Any]:
    response = predict(client, model_id, texts)
    assert response.status_code == 200, response.text
    return list(response.json()["predictions"])


def cancel(client: httpx.Client, task_id: str) -> httpx.Response:
    return client.post(f"{TASKS}/{task_id}/cancel")


def assert_error(response: httpx.Response, status: int, *needles: str) -> str:
    """`status` with a JSON `detail` that mentions every needle (case-insensitive)."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else str(detail)
    assert "Traceback" not in text
    for needle in needles:
        assert needle.lower() in text.lower(), f"{needle!r} not in {text!r}"
    return text
