"""Token rules at start-up and GET /api/v1/whoami, over HTTP against real servers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.mlops.conftest import NO_DEFAULTS, TOKENS, role_client, start_auth_server
from tests.servers import (
    REPO_ROOT,
    ServerProcess,
    backend_env,
    free_port,
    start_backend,
    uvicorn_command,
)


def start_refused(tmp_path: Path, api_tokens: str) -> tuple[int, str]:
    """Start uvicorn with `api_tokens`; the exit code and output of a server that must stop."""
    env = backend_env(tmp_path, API_TOKENS=api_tokens, **NO_DEFAULTS)
    try:
        done = subprocess.run(
            uvicorn_command(free_port()),
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the server started with API_TOKENS={api_tokens!r}") from exc
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("api_tokens", "named"),
    [
        ("admin:shorty-7", "at least 16"),
        ("viewer:0123456789abcdef,admin:short-token-15c", "at least 16"),
        ("viewer:0123456789abcdef-same,admin:0123456789abcdef-same", "unique"),
        ("admin:0123456789abcdef-same,admin:0123456789abcdef-same", "unique"),
    ],
)
def test_weak_or_duplicate_tokens_refuse_to_start(
    tmp_path: Path, api_tokens: str, named: str
) -> None:
    code, output = start_refused(tmp_path, api_tokens)
    assert code != 0
    assert "API_TOKENS" in output and named in output, output[-2000:]
    for token in {pair.partition(":")[2] for pair in api_tokens.split(",")}:
        assert token not in output, "the refusal must not print the secret"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def auth_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> ServerProcess:
    server = start_auth_server(tmp_path_factory.mktemp("whoami"), request.param)
    yield server  # type: ignore[misc]
    server.stop()


def test_whoami_names_the_role(auth_server: ServerProcess) -> None:
    for role in TOKENS:
        with role_client(auth_server, role) as client:
            response = client.get("/api/v1/whoami")
        assert response.status_code == 200, response.text
        assert response.json() == {"role": role, "open": False}


def test_whoami_refuses_missing_and_unknown_tokens(auth_server: ServerProcess) -> None:
    with role_client(auth_server, None) as anonymous:
        assert anonymous.get("/api/v1/whoami").status_code == 401
        unknown = anonymous.get(
            "/api/v1/whoami", headers={"Authorization": "Bearer not-a-token-0123456789"}
        )
    assert unknown.status_code == 401
    assert "token" in unknown.json()["detail"]


def test_whoami_on_an_open_service(tmp_path: Path) -> None:
    server = start_backend(tmp_path, **NO_DEFAULTS)
    try:
        response = httpx.get(f"{server.url}/api/v1/whoami", timeout=30)
        assert response.status_code == 200
        assert response.json() == {"role": None, "open": True}
    finally:
        server.stop()
