"""The prediction log keeps to PREDICTION_LOG_MAX_ROWS and PREDICTION_LOG_MAX_MB, dropping
the oldest rows first, and /metrics counts it; on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.backend.api_steps import wait_task
from tests.mlops.conftest import role_client
from tests.mlops.test_auth import parse_metrics
from tests.security.conftest import SEC_ENV, csv_bytes
from tests.servers import ServerProcess

MAX_ROWS = int(SEC_ENV["PREDICTION_LOG_MAX_ROWS"])
MAX_BYTES = float(SEC_ENV["PREDICTION_LOG_MAX_MB"]) * 1024 * 1024


def loaded_model(client: httpx.Client, small_rows: list[tuple[str, str]]) -> str:
    dataset = client.post(
        "/api/v1/datasets", files={"file": ("budget.csv", csv_bytes(small_rows), "text/csv")}
    )
    assert dataset.status_code == 201, dataset.text
    accepted = client.post(
        "/api/v1/models/fit",
        json={"name": "budget", "dataset_id": dataset.json()["id"], "model_type": "mnb"},
    ).json()
    assert wait_task(client, accepted["task_id"])["status"] == "succeeded"
    assert (
        client.post("/api/v1/models/load", json={"model_id": accepted["model_id"]}).status_code
        == 200
    )
    return str(accepted["model_id"])


def log_rows(client: httpx.Client, model_id: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/predictions", params={"model_id": model_id, "limit": 1000})
    assert response.status_code == 200, response.text
    return list(response.json())


def wait_rows(client: httpx.Client, model_id: str, check: Any, timeout: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout
    rows = log_rows(client, model_id)
    while not check(rows) and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = log_rows(client, model_id)
    return rows


def metric(server: ServerProcess, name: str) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=30).text
    values = [value for sample, _labels, value in parse_metrics(text) if sample == name]
    assert values, f"/metrics has no {name}"
    return values[0]


def test_oldest_rows_go_past_the_budget(
    sec_server: ServerProcess, small_rows: list[tuple[str, str]]
) -> None:
    with role_client(sec_server, "editor") as editor:
        model_id = loaded_model(editor, small_rows)
        calls = [f"budget call number {i}" for i in range(3 * MAX_ROWS)]
        for text in calls:
            answer = editor.post(
                "/api/v1/models/predict", json={"model_id": model_id, "texts": [text]}
            )
            assert answer.status_code == 200, answer.text
            time.sleep(0.05)  # distinct write batches, in order
        rows = wait_rows(
            editor,
            model_id,
            lambda rows: (
                len(rows) <= MAX_ROWS and rows and rows[0]["items"][0].get("text") == calls[-1]
            ),
        )
        assert len(rows) == MAX_ROWS, [r["items"] for r in rows]
        kept = [row["items"][0]["text"] for row in rows]  # newest first
        assert kept == calls[::-1][:MAX_ROWS]
        assert metric(sec_server, "prediction_log_dropped_rows_total") >= 2 * MAX_ROWS
        assert metric(sec_server, "prediction_log_rows") <= MAX_ROWS
        assert metric(sec_server, "prediction_log_max_rows") == MAX_ROWS

        # One call heavier than the whole size budget: it goes, and the log stays under it.
        heavy = [f"heavy text {i} " + "x" * 500 for i in range(300)]
        answer = editor.post("/api/v1/models/predict", json={"model_id": model_id, "texts": heavy})
        assert answer.status_code == 200, answer.text
        editor.post("/api/v1/models/predict", json={"model_id": model_id, "texts": ["after"]})
        rows = wait_rows(
            editor,
            model_id,
            lambda rows: (
                all(r["n_texts"] == 1 for r in rows)
                and rows
                and rows[0]["items"][0].get("text") == "after"
            ),
        )
        assert all(row["n_texts"] == 1 for row in rows), [r["n_texts"] for r in rows]
        assert rows[0]["items"][0]["text"] == "after"
    assert 0 < metric(sec_server, "prediction_log_bytes") <= MAX_BYTES
