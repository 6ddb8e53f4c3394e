"""/health, /ready and the OpenAPI document."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from tests.servers import ServerProcess, start_backend


def test_health_and_ready(client: httpx.Client, backend: ServerProcess) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok"
    # `instance` tells replicas apart: this host and the server's process id.
    assert health["instance"] == f"{socket.gethostname()}:{backend.process.pid}"
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text


def test_ready_is_503_until_the_default_models_are_ready(tmp_path: Path) -> None:
    server = start_backend(tmp_path / "fresh", wait_ready=False)
    try:
        first = httpx.get(server.url + "/ready", timeout=10)
        assert first.status_code == 503, first.text
        assert "default models" in first.json()["detail"]
        assert httpx.get(server.url + "/health", timeout=10).status_code == 200
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if httpx.get(server.url + "/ready", timeout=10).status_code == 200:
                break
            time.sleep(0.2)
        assert httpx.get(server.url + "/ready", timeout=10).status_code == 200
    finally:
        server.stop()


def test_openapi_lists_the_contract_routes(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        "/health": "get",
        "/ready": "get",
        "/api/v1/datasets/": "post",
        "/api/v1/datasets/{dataset_id}": "delete",
        "/api/v1/models/": "get",
        "/api/v1/models/{model_id}": "delete",
        "/api/v1/models/fit": "post",
        "/api/v1/models/load": "post",
        "/api/v1/models/unload": "post",
        "/api/v1/models/predict": "post",
        "/api/v1/models/predict_scores": "post",
        "/api/v1/models/evaluate": "post",
        "/api/v1/models/remove": "post",
        "/api/v1/models/remove_all": "post",
        "/api/v1/models/{model_id}/promote": "post",
        "/api/v1/tasks/": "get",
        "/api/v1/tasks/{task_id}": "get",
        "/api/v1/tasks/{task_id}/cancel": "post",
    }
    for path, method in expected.items():
        assert method in paths.get(path, {}), path


def test_collection_routes_answer_with_and_without_slash(client: httpx.Client) -> None:
    for path in ("/api/v1/datasets", "/api/v1/models", "/api/v1/tasks"):
        for variant in (path, path + "/"):
            response = client.get(variant)
            assert response.status_code == 200, variant  # no redirect either
            assert isinstance(response.json(), list)


def test_unknown_route_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert "detail" in response.json()
