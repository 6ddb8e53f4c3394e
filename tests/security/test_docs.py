"""DOCS_ENABLED: /docs, /redoc and /openapi.json are served only when it is on."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.mlops.conftest import NO_DEFAULTS
from tests.servers import ServerProcess, start_backend

DOC_PATHS = ("/docs", "/redoc", "/openapi.json")


def test_docs_on_by_default(sec_server: ServerProcess) -> None:
    for path in DOC_PATHS:
        assert httpx.get(sec_server.url + path, timeout=30).status_code == 200, path


def test_docs_off(tmp_path: Path) -> None:
    server = start_backend(tmp_path, DOCS_ENABLED="false", **NO_DEFAULTS)
    try:
        for path in DOC_PATHS:
            response = httpx.get(server.url + path, timeout=30)
            assert response.status_code == 404, (path, response.text[:200])
        assert httpx.get(server.url + "/health", timeout=30).status_code == 200
        assert httpx.get(server.url + "/api/v1/models/", timeout=30).status_code == 200
    finally:
        server.stop()
