"""Servers of the security tests: API tokens, no default models, once per database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mlops.conftest import start_auth_server
from tests.servers import ServerProcess

# Small budgets so that the prediction log test sees rows dropped after a few calls.
SEC_ENV = {
    "PREDICTION_LOG_MAX_ROWS": "6",
    "PREDICTION_LOG_MAX_MB": "0.05",
    "LOG_PREDICTION_TEXTS": "true",
}


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def sec_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server with the role tokens of tests/mlops, shared by the security tests."""
    server = start_auth_server(
        tmp_path_factory.mktemp(f"sec-{request.param}"), request.param, **SEC_ENV
    )
    yield server
    server.stop()


def csv_bytes(rows: list[tuple[str, str]]) -> bytes:
    lines = ["text,label", *(f"{text},{label}" for text, label in rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="session")
def small_rows() -> list[tuple[str, str]]:
    """40 short rows, two classes: enough for a fit of a second or two."""
    good = ["you are kind", "what a nice day", "thanks for the help", "well done friend"]
    bad = ["you are an idiot", "shut up stupid", "you are dumb trash", "go away loser"]
    return [(f"{text} {i}", "0") for i in range(5) for text in good] + [
        (f"{text} {i}", "1") for i in range(5) for text in bad
    ]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_bytes(csv_bytes(rows))
    return path
