"""Fixtures of the MLOps tests: servers with API tokens, clients per role, datasets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.conftest import TOXIC_EN
from tests.databases import fresh_postgres_database
from tests.servers import ServerProcess, start_backend

TOKENS = {
    "viewer": "v-tok-123-viewer-4f1c",
    "editor": "e-tok-456-editor-9a2d",
    "admin": "a-tok-789-admin-77e0b",
}
API_TOKENS = ",".join(f"{role}:{token}" for role, token in TOKENS.items())
ROLES = tuple(TOKENS)


def role_client(server: ServerProcess, role: str | None, timeout: float = 60) -> httpx.Client:
    """A client that sends the token of `role` (none for `None`)."""
    headers = {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=timeout)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def poll(check: Callable[[], Any], timeout: float = 15, interval: float = 0.1) -> Any:
    """Call `check` until it returns something truthy; its last value otherwise."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = check()
    return value


# Servers here train their own models: no default models, so they start in seconds.
NO_DEFAULTS = {"DEFAULT_MODELS": "false"}


def start_auth_server(data_dir: Path, database: str = "sqlite", **env: str) -> ServerProcess:
    """A server with the role tokens, on SQLite in `data_dir` or a fresh PostgreSQL database."""
    if database == "postgresql":
        env["DATABASE_URL"] = fresh_postgres_database()
    return start_backend(data_dir, API_TOKENS=API_TOKENS, **{**NO_DEFAULTS, **env})


class SharedServers:
    """One server with API tokens per database, started on first use and shared by the
    modules that only add state of their own. The PostgreSQL one logs prediction texts
    (LOG_PREDICTION_TEXTS=true), the SQLite one does not, so both settings are covered."""

    KEEPS_TEXTS = {"sqlite": False, "postgresql": True}

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.servers: dict[str, ServerProcess] = {}

    def get(self, database: str) -> ServerProcess:
        if database not in self.servers:
            self.servers[database] = start_auth_server(
                self.tmp_path_factory.mktemp(f"shared-{database}"),
                database,
                LOG_PREDICTION_TEXTS=str(self.KEEPS_TEXTS[database]).lower(),
            )
        return self.servers[database]

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


@pytest.fixture(scope="session")
def shared_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedServers]:
    servers = SharedServers(tmp_path_factory)
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def server(shared_servers: SharedServers) -> ServerProcess:
    """The shared SQLite-backed server with API tokens."""
    return shared_servers.get("sqlite")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_server(request: pytest.FixtureRequest, shared_servers: SharedServers) -> ServerProcess:
    """The shared server with API tokens, once per database."""
    return shared_servers.get(request.param)


@pytest.fixture(scope="module")
def editor(db_server: ServerProcess) -> Iterator[httpx.Client]:
    """An editor's client of the shared server with API tokens, once per database."""
    with role_client(db_server, "editor") as client:
        yield client


@pytest.fixture(scope="module")
def viewer(db_server: ServerProcess) -> Iterator[httpx.Client]:
    """A viewer's client of the shared server with API tokens, once per database."""
    with role_client(db_server, "viewer") as client:
        yield client


def keeps_texts(server: ServerProcess) -> bool:
    return server.env.get("LOG_PREDICTION_TEXTS") == "true"


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 rows (30 per class): a poor champion's training data."""
    frame = pd.read_csv(TOXIC_EN, keep_default_na=False)
    sample = pd.concat([frame[frame.label == 0].head(30), frame[frame.label == 1].head(30)])
    path = tmp_path_factory.mktemp("csv") / "tiny.csv"
    sample.sample(frac=1, random_state=0).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def fresh_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 balanced rows from the second half of toxic_en.csv: new data for retraining."""
    frame = pd.read_csv(TOXIC_EN, keep_default_na=False).iloc[10_000:]
    sample = pd.concat([frame[frame.label == 0].head(1500), frame[frame.label == 1].head(1500)])
    path = tmp_path_factory.mktemp("csv") / "fresh.csv"
    sample.sample(frac=1, random_state=1).to_csv(path, index=False)
    return path


def upload_dataset(client: httpx.Client, path: Path) -> dict[str, Any]:
    response = client.post(
        "/api/v1/datasets", files={"file": (path.name, path.read_bytes(), "text/csv")}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


_uploaded: dict[tuple[str, Path], dict[str, Any]] = {}


def dataset_on(server: ServerProcess, path: Path) -> dict[str, Any]:
    """`path` uploaded to `server` once (by the editor): its DatasetInfo."""
    if (server.url, path) not in _uploaded:
        with role_client(server, "editor") as editor:
            _uploaded[server.url, path] = upload_dataset(editor, path)
    return _uploaded[server.url, path]
