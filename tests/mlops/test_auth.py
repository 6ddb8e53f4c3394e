"""Bearer tokens and roles: every route of the live OpenAPI document × no token / an unknown
token / viewer / editor / admin; tokens never reach the logs; /metrics for operators."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mlops.conftest import NO_DEFAULTS, ROLES, TOKENS, role_client, start_auth_server
from tests.servers import ServerProcess

# Minimum role of every route; None = open to everyone. A route missing here fails the test:
# whoever adds a route decides who may call it.
MIN_ROLE: dict[tuple[str, str], str | None] = {
    ("GET", "/health"): None,
    ("GET", "/ready"): None,
    ("GET", "/metrics"): None,
    ("GET", "/api/v1/datasets/"): "viewer",
    ("POST", "/api/v1/datasets/"): "editor",
    ("POST", "/api/v1/datasets/preview"): "editor",  # like upload
    ("GET", "/api/v1/datasets/{dataset_id}"): "viewer",
    ("DELETE", "/api/v1/datasets/{dataset_id}"): "editor",
    ("GET", "/api/v1/datasets/{dataset_id}/download"): "viewer",  # API.md: viewer = GET
    ("GET", "/api/v1/models/"): "viewer",
    ("GET", "/api/v1/models/{model_id}"): "viewer",
    ("POST", "/api/v1/models/fit"): "editor",
    ("POST", "/api/v1/models/retrain"): "editor",
    ("POST", "/api/v1/models/load"): "editor",
    ("POST", "/api/v1/models/unload"): "editor",
    ("POST", "/api/v1/models/predict"): "viewer",
    ("POST", "/api/v1/models/predict_scores"): "viewer",
    ("POST", "/api/v1/models/{model_ref}/invocations"): "viewer",
    ("POST", "/api/v1/models/evaluate"): "viewer",
    ("POST", "/api/v1/models/explain"): "viewer",
    ("POST", "/api/v1/models/remove"): "editor",
    ("DELETE", "/api/v1/models/{model_id}"): "editor",
    ("POST", "/api/v1/models/{model_id}/promote"): "editor",
    ("GET", "/api/v1/models/{model_id}/threshold"): "viewer",
    ("POST", "/api/v1/models/{model_id}/threshold"): "editor",
    ("POST", "/api/v1/models/remove_all"): "admin",
    ("GET", "/api/v1/models/{model_id}/download"): "admin",
    ("POST", "/api/v1/models/upload"): "admin",
    ("GET", "/api/v1/model_types/"): "viewer",
    ("GET", "/api/v1/tasks/"): "viewer",
    ("GET", "/api/v1/tasks/{task_id}"): "viewer",
    ("POST", "/api/v1/tasks/{task_id}/cancel"): "editor",
    ("GET", "/api/v1/predictions/"): "viewer",
    ("GET", "/api/v1/whoami"): "viewer",
    ("GET", "/api/v1/limits"): "viewer",
    ("GET", "/api/v1/models/{model_id}/drift"): "viewer",
    ("POST", "/api/v1/feedback/"): "viewer",  # moderators are often viewers
    ("GET", "/api/v1/feedback/"): "viewer",
    ("GET", "/api/v1/feedback/summary"): "viewer",
    ("POST", "/api/v1/feedback/dataset"): "editor",
}
RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
UNKNOWN_TOKEN = "x-tok-000-unknown"


@pytest.fixture(scope="module")
def matrix_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own: the matrix calls remove_all and deletes as admin.

    Its access log is on, so that the token check also covers uvicorn's line per request.
    """
    server = start_auth_server(tmp_path_factory.mktemp("matrix"), ACCESS_LOG="true", **NO_DEFAULTS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def routes(matrix_server: ServerProcess) -> list[tuple[str, str]]:
    schema = httpx.get(f"{matrix_server.url}/openapi.json", timeout=30).json()
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    """Call a route with placeholder ids and an empty JSON body: enough to pass or fail auth."""
    url = re.sub(r"\{[^}]+\}", "does-not-exist", path)
    if method in ("GET", "DELETE"):
        return client.request(method, url)
    return client.request(method, url, json={})


def test_every_route_has_a_rule(routes: list[tuple[str, str]]) -> None:
    missing = sorted(set(routes) - set(MIN_ROLE))
    assert not missing, f"routes without a role rule in MIN_ROLE: {missing}"
    gone = sorted(set(MIN_ROLE) - set(routes))
    assert not gone, f"routes in MIN_ROLE that /openapi.json no longer has: {gone}"


def test_role_matrix(matrix_server: ServerProcess, routes: list[tuple[str, str]]) -> None:
    failures: list[str] = []
    # Collection routes answer without their trailing slash too; check both spellings.
    variants = [(m, p, r) for (m, p) in routes for r in {p, p.rstrip("/") or "/"}]
    clients: dict[str, httpx.Client] = {
        "none": role_client(matrix_server, None),
        "unknown": httpx.Client(
            base_url=matrix_server.url,
            timeout=60,
            headers={"Authorization": f"Bearer {UNKNOWN_TOKEN}"},
        ),
        "basic": httpx.Client(
            base_url=matrix_server.url,
            timeout=60,
            headers={"Authorization": f"Basic {TOKENS['admin']}"},
        ),
        **{role: role_client(matrix_server, role) for role in ROLES},
    }
    try:
        for method, schema_path, path in variants:
            needed = MIN_ROLE.get((method, schema_path), "admin")
            for who, client in clients.items():
                status = call(client, method, path).status_code
                if needed is None:
                    expected: Any = 200
                    ok = status == 200
                elif who in ("none", "unknown", "basic"):
                    expected, ok = 401, status == 401
                elif RANK[who] < RANK[needed]:
                    expected, ok = 403, status == 403
                else:
                    expected, ok = "not 401/403", status not in (401, 403, 500)
                if not ok:
                    failures.append(f"{method} {path} as {who}: {status}, expected {expected}")
    finally:
        for client in clients.values():
            client.close()
    assert not failures, "\n".join(failures)


def test_errors_say_what_is_wrong(matrix_server: ServerProcess) -> None:
    with role_client(matrix_server, None) as anonymous:
        missing = anonymous.get("/api/v1/models/")
    assert missing.status_code == 401
    assert "bearer" in missing.json()["detail"].lower()
    with role_client(matrix_server, "viewer") as viewer:
        low = viewer.post("/api/v1/models/remove_all")
    assert low.status_code == 403
    detail = low.json()["detail"]
    assert "admin" in detail and "viewer" in detail


def test_an_allowed_role_does_the_work(matrix_server: ServerProcess, small_csv: Path) -> None:
    """Past the role check the route really runs: an editor uploads, a viewer reads, only
    an admin deletes everything."""
    with role_client(matrix_server, "editor") as editor:
        upload = editor.post(
            "/api/v1/datasets", files={"file": ("small.csv", small_csv.read_bytes(), "text/csv")}
        )
    assert upload.status_code == 201, upload.text
    with role_client(matrix_server, "viewer") as viewer:
        listed = viewer.get("/api/v1/datasets")
        assert listed.status_code == 200
        assert upload.json()["id"] in [d["id"] for d in listed.json()]
        assert viewer.delete(f"/api/v1/datasets/{upload.json()['id']}").status_code == 403
    with role_client(matrix_server, "admin") as admin:
        assert admin.post("/api/v1/models/remove_all").json() == {"removed": []}


def test_tokens_never_reach_the_logs(
    matrix_server: ServerProcess, routes: list[tuple[str, str]]
) -> None:
    # Every token has been sent by now (the matrix ran); send each once more to be sure.
    for token in (*TOKENS.values(), UNKNOWN_TOKEN):
        httpx.get(
            f"{matrix_server.url}/api/v1/models/",
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )
    backend_log = Path(matrix_server.env["LOG_DIR"]) / "backend.log"
    assert backend_log.is_file(), "the backend writes no log file under LOG_DIR"
    logs = {
        "backend.log": backend_log.read_text(errors="replace"),
        "uvicorn log": matrix_server.log(),
    }
    assert "GET /api/v1/models/" in logs["uvicorn log"]  # the requests were logged at all
    for name, text in logs.items():
        for token in (*TOKENS.values(), UNKNOWN_TOKEN):
            assert token not in text, f"token {token[:5]}... appears in the {name}"


def test_metrics(matrix_server: ServerProcess) -> None:
    with role_client(matrix_server, "viewer") as viewer:
        assert viewer.get("/api/v1/models/").status_code == 200
        assert viewer.get("/api/v1/tasks/does-not-exist").status_code == 404
    with role_client(matrix_server, None) as anonymous:
        assert anonymous.get("/api/v1/models/").status_code == 401
        response = anonymous.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = parse_metrics(response.text)

    def value(name: str, **labels: str) -> float | None:
        for sample_name, sample_labels, sample_value in samples:
            if sample_name == name and labels.items() <= sample_labels.items():
                return sample_value
        return None

    # Requests by route template (not by concrete path) and status.
    assert (
        value("http_requests_total", route="/api/v1/models/", method="GET", status="200") or 0
    ) >= 1
    assert (
        value("http_requests_total", route="/api/v1/models/", method="GET", status="401") or 0
    ) >= 1
    assert (value("http_requests_total", route="/api/v1/tasks/{task_id}", status="404") or 0) >= 1
    assert not any("does-not-exist" in str(labels) for _n, labels, _v in samples)
    assert (
        value("http_request_duration_seconds_bucket", route="/api/v1/models/", le="+Inf")
        is not None
    )
    assert value("http_request_duration_seconds_count", route="/api/v1/models/") is not None
    for status in ("queued", "running", "succeeded", "failed", "cancelled"):
        assert value("tasks", status=status) is not None, status
    assert value("models_loaded") == 0  # no default models on this server
    assert value("fit_queue_length") == 0


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name, labels, value = match.groups()
        samples.append((name, dict(LABEL.findall(labels or "")), float(value)))
    return samples
