"""GET /api/v1/limits: the request limits in force, for clients that split their requests
(the web UI's Predict page and explanations), over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx

from frontend.batches import Limits, backend_limits
from frontend.client import BackendClient
from tests.mlops.conftest import NO_DEFAULTS, role_client
from tests.servers import ServerProcess, start_backend

DEFAULTS = {
    "max_predict_batch": 10_000,
    "max_predict_chars": 1_000_000,
    "max_explain_chars": 200_000,
    "max_predict_scores": 200_000,
    "max_upload_mb": 200,
    "max_json_body_mb": 64,
}


def test_limits_need_a_token_and_answer_the_defaults(sec_server: ServerProcess) -> None:
    with role_client(sec_server, None) as anonymous:
        assert anonymous.get("/api/v1/limits").status_code == 401
    with role_client(sec_server, "viewer") as viewer:
        response = viewer.get("/api/v1/limits", params={"max_predict_chars": "5"})
        assert response.status_code == 200, response.text
        assert response.json() == DEFAULTS
        assert viewer.post("/api/v1/limits", json={}).status_code == 405


def test_the_ui_splits_by_the_limits_the_backend_names(tmp_path: Path) -> None:
    server = start_backend(
        tmp_path,
        MAX_PREDICT_CHARS="1234",
        MAX_EXPLAIN_CHARS="99",
        MAX_PREDICT_BATCH="7",
        **NO_DEFAULTS,
    )
    try:
        answer = httpx.get(f"{server.url}/api/v1/limits", timeout=30).json()
        assert (answer["max_predict_chars"], answer["max_explain_chars"]) == (1234, 99)
        limits = backend_limits(BackendClient(server.url))
        assert limits == Limits(max_texts=7, max_chars=1234, max_explain_chars=99)
    finally:
        server.stop()
    # A backend that cannot be reached: the defaults.
    assert backend_limits(BackendClient(server.url)) == Limits()
