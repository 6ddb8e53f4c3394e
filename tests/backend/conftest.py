"""The backend API tests run against both databases: SQLite (the default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import fresh_postgres_database
from tests.servers import ServerProcess, start_backend


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A backend shared by tests that only add state of their own, once per database."""
    env = {}
    if request.param == "postgresql":
        env["DATABASE_URL"] = fresh_postgres_database()
    server = start_backend(tmp_path_factory.mktemp(f"backend-{request.param}"), **env)
    yield server
    server.stop()
