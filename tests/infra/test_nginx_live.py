"""The project's NGINX config, live: a real nginx in front of the real backend and frontend."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.infra.conftest import TEST_UPLOAD_LIMIT_MB
from tests.infra.nginx_local import NginxInstance

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SECURITY_HEADERS = ("x-content-type-options", "x-frame-options", "referrer-policy")


@pytest.fixture()
def proxied(nginx: NginxInstance) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=nginx.url, timeout=60) as http:
        yield http


def websocket_handshake(port: int, path: str, host: str) -> tuple[str, dict[str, str], str]:
    """Send a browser-like upgrade request; return status line, headers and the key sent."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            if not chunk:
                break
            response += chunk
    head = response.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return head[0], headers, key


def test_api_reaches_the_backend(proxied: httpx.Client) -> None:
    response = proxied.get("/api/v1/models/")
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)
    assert response.headers["content-type"].startswith("application/json")


def test_health_and_ready_reach_the_backend(proxied: httpx.Client) -> None:
    health = proxied.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["instance"]
    assert proxied.get("/ready").status_code == 200


def test_docs_and_openapi_reach_the_backend(proxied: httpx.Client) -> None:
    schema = proxied.get("/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/models/predict" in schema.json()["paths"]
    docs = proxied.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_root_serves_the_streamlit_page(proxied: httpx.Client) -> None:
    response = proxied.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="root"' in response.text and "streamlit" in response.text.lower()
    assert proxied.get("/_stcore/health").text.strip() == "ok"


def test_streamlit_websocket_upgrade_through_nginx(nginx: NginxInstance) -> None:
    # A public host name, not localhost: Streamlit then checks Origin against the Host header,
    # which nginx must pass on with its port.
    status, headers, key = websocket_handshake(
        nginx.port, "/_stcore/stream", f"toxiclf.example:{nginx.port}"
    )
    assert status.startswith("HTTP/1.1 101"), (status, headers)
    assert headers["upgrade"].lower() == "websocket"
    expected = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
    assert headers["sec-websocket-accept"] == expected


def test_upload_over_the_limit_gets_a_clean_413(proxied: httpx.Client) -> None:
    body = b"text,label\n" + b"a long enough comment,0\n" * (2 * 1024 * 1024 // 24)
    assert len(body) > TEST_UPLOAD_LIMIT_MB * 1024 * 1024
    response = proxied.post("/api/v1/datasets", files={"file": ("big.csv", body, "text/csv")})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert f"{TEST_UPLOAD_LIMIT_MB} MB" in response.json()["detail"]


def test_upload_under_the_limit_reaches_the_backend(proxied: httpx.Client) -> None:
    rows = [f"comment number {i} is {'awful' if i % 2 else 'fine'},{i % 2}" for i in range(40)]
    body = ("text,label\n" + "\n".join(rows) + "\n").encode()
    response = proxied.post(
        "/api/v1/datasets",
        files={"file": ("small.csv", body, "text/csv")},
        data={"name": "through-nginx"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 40


def test_json_is_gzipped(proxied: httpx.Client) -> None:
    response = proxied.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"
    assert response.json()["paths"]


def test_security_headers_and_no_version_disclosure(proxied: httpx.Client) -> None:
    for path in ("/", "/api/v1/models/", "/health"):
        response = proxied.get(path)
        for header in SECURITY_HEADERS:
            assert header in response.headers, f"{path}: no {header}"
        assert response.headers["server"] == "nginx", "server_tokens should hide the version"


def test_requests_are_logged(proxied: httpx.Client, nginx: NginxInstance) -> None:
    proxied.get("/api/v1/models/", params={"probe": "access-log"})
    access_log = (nginx.log_dir / "access.log").read_text()
    assert 'GET /api/v1/models/?probe=access-log HTTP/1.1" 200' in access_log
    assert (nginx.log_dir / "error.log").exists()
