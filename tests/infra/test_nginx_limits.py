"""nginx's rate and connection limits for /api/, live: a real nginx with small limits in front
of the real backend, and the Content-Security-Policy under which the Streamlit app still
renders and opens its WebSocket in Chromium."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.infra.conftest import start_nginx
from tests.infra.nginx_local import NginxInstance
from tests.servers import ServerProcess

RATE, BURST, CONN = 2, 3, 2


@pytest.fixture(scope="module")
def limited(
    backend: ServerProcess, frontend: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxInstance]:
    instance = start_nginx(
        tmp_path_factory.mktemp("nginx-limited"),
        backend,
        frontend,
        NGINX_API_RATE=str(RATE),
        NGINX_API_BURST=str(BURST),
        NGINX_API_CONN=str(CONN),
        NGINX_PREDICT_RATE=str(RATE),
    )
    yield instance
    instance.stop()


def test_predictions_are_rate_limited_too(limited: NginxInstance) -> None:
    body = {"model_id": "default-logreg", "texts": ["hello"]}
    with httpx.Client(base_url=limited.url, timeout=30) as client:
        statuses = [
            client.post("/api/v1/models/predict", json=body).status_code
            for _ in range(4 * (BURST + 1))
        ]
        assert 200 in statuses and 429 in statuses, statuses
        refused = client.post("/api/v1/models/predict", json=body)
        assert refused.status_code == 429
        assert "NGINX_PREDICT_RATE" in refused.json()["detail"]
        time.sleep(2 * (BURST + 1) / RATE)


def test_api_rate_limit_answers_json_429(limited: NginxInstance) -> None:
    with httpx.Client(base_url=limited.url, timeout=30) as client:
        statuses = [client.get("/api/v1/models/").status_code for _ in range(4 * (BURST + 1))]
        refused = client.get("/api/v1/models/")
        assert 200 in statuses and 429 in statuses, statuses
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/json")
        assert "NGINX_API_RATE" in refused.json()["detail"]
        assert client.get("/nginx-health").status_code == 200  # only /api/ is limited
        assert client.get("/health").status_code == 200
        time.sleep(2 * (BURST + 1) / RATE)  # the bucket drains: served again
        assert client.get("/api/v1/models/").status_code == 200


def test_api_connection_limit_answers_429(limited: NginxInstance) -> None:
    time.sleep(2 * (BURST + 1) / RATE)
    held: list[socket.socket] = []
    try:
        # Open /api/ requests whose bodies never finish: each holds a connection at nginx.
        for _ in range(CONN):
            sock = socket.create_connection(("127.0.0.1", limited.port), timeout=10)
            sock.sendall(
                b"POST /api/v1/models/predict HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
            held.append(sock)
        time.sleep(0.5)
        response = httpx.get(f"{limited.url}/api/v1/models/", timeout=30)
        assert response.status_code == 429, response.text
        assert response.json()["detail"]
    finally:
        for sock in held:
            sock.close()


def test_streamlit_renders_under_the_csp(limited: NginxInstance, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_answer = httpx.get(limited.url + "/", timeout=30)
    policy = page_answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors" in policy
    violations: list[str] = []
    sockets: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda message: (
                    violations.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            page.on("websocket", lambda socket_: sockets.append(socket_.url))
            page.goto(limited.url + "/", wait_until="domcontentloaded")
            # The app's own content arrives over the WebSocket: its sidebar and main block.
            page.wait_for_selector(
                "[data-testid='stSidebar'], [data-testid='stMain']", timeout=60_000
            )
            page.wait_for_timeout(2000)
            page.screenshot(path=str(tmp_path / "csp.png"))
        finally:
            browser.close()
    assert any(url.endswith("/_stcore/stream") for url in sockets), sockets
    assert not violations, violations
