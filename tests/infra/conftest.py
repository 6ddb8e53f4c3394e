"""Fixtures for the live NGINX test: a Streamlit frontend and nginx in front of both servers.

The backend comes from the shared `backend` fixture in tests/conftest.py. nginx is the system
binary that `.ci/run` installs; it runs unprivileged on a free port from a rendered copy of
infra/nginx/default.conf.template.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.nginx_local import NginxInstance, find_nginx, write_config
from tests.servers import ServerProcess, free_port, start_frontend

# Small on purpose: the over-limit test sends a 2 MB body.
TEST_UPLOAD_LIMIT_MB = 1
# Generous: the other live tests must not meet the rate limit (test_nginx_limits sets its own).
NGINX_LIMITS = {
    "NGINX_API_RATE": "200",
    "NGINX_API_BURST": "400",
    "NGINX_API_CONN": "100",
    "NGINX_PREDICT_RATE": "1000",
}


@pytest.fixture(scope="session")
def frontend(
    backend: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """`streamlit run frontend/app.py` on a free port, talking to the shared backend."""
    server = start_frontend(backend.url, tmp_path_factory.mktemp("frontend") / "log")
    yield server
    server.stop()


def start_nginx(
    root: Path, backend: ServerProcess, frontend: ServerProcess, **limits: str
) -> NginxInstance:
    """nginx from the project's template in `root`, on a free port in front of the test
    servers, with NGINX_LIMITS unless `limits` says otherwise; running once this returns."""
    try:
        binary = find_nginx()
    except RuntimeError as missing:
        pytest.fail(str(missing))
    port = free_port()
    write_config(
        root,
        {
            "NGINX_PORT": str(port),
            "BACKEND_UPSTREAM": backend.url.removeprefix("http://"),
            "FRONTEND_UPSTREAM": frontend.url.removeprefix("http://"),
            "NGINX_RESOLVER": "127.0.0.1",
            "MAX_UPLOAD_MB": str(TEST_UPLOAD_LIMIT_MB),
            "NGINX_LOG_DIR": str(root / "logs"),
            **NGINX_LIMITS,
            **limits,
        },
    )
    instance = NginxInstance(binary, root, port)
    checked = instance.check_config()
    if checked.returncode != 0:
        pytest.fail(f"nginx -t rejects the rendered config:\n{checked.stderr}")
    instance.start()
    return instance


@pytest.fixture(scope="module")
def nginx(
    backend: ServerProcess, frontend: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxInstance]:
    """nginx with the project's template rendered for the test servers' ports."""
    instance = start_nginx(tmp_path_factory.mktemp("nginx"), backend, frontend)
    yield instance
    instance.stop()
