"""Start-up removes every file that no record vouches for, and none that a live process is
still writing (issue 11): a crash between a file's rename and its row's commit left a
dataset file that nothing listed, and a cleanup that ignored live writers would race an
upload in another process."""

from __future__ import annotations

import fcntl
import os
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import StartServer
from tests.databases import fresh_postgres_database
from tests.reliability.test_crashes import assert_consistent

LEFTOVERS = [
    "datasets/ds_00000000000000aa.csv",  # renamed into place, row never committed
    "datasets/retrain_00000000000000aa-train.csv",  # a retrain split whose task is gone
    "datasets/.ds_00000000000000ab.csv.x1.tmp",  # a temp copy cut off mid-write
    "models/mdl_00000000000000aa.skops",  # an uploaded model whose row never came
    "models/.mdl_00000000000000ab.skops.x2.tmp",
    "uploads/tmp00000000.upload",  # an upload body cut off mid-stream
]
BEING_WRITTEN = [  # the same kinds, held by a live writer whose row is still to come
    "datasets/ds_00000000000000bb.csv",
    "datasets/.ds_00000000000000bc.csv.y1.tmp",
    "models/mdl_00000000000000bb.skops",
    "models/.mdl_00000000000000bc.skops.y2.tmp",
    "uploads/tmp11111111.upload",
]


def _plant(data_dir: Path, names: list[str]) -> list[Path]:
    paths = [data_dir / name for name in names]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("text,label\nhello,0\n")
    return paths


def _hold(paths: list[Path], stack: ExitStack) -> None:
    """Lock each file as a writer in another process does until its row is committed."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        stack.callback(os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_EX)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_start_removes_unrecorded_files_but_not_live_ones(
    start_server: StartServer, tmp_path: Path, database: str
) -> None:
    if database == "sqlite":
        server = start_server()
    else:
        server = start_server(tmp_path / "pg-data", DATABASE_URL=fresh_postgres_database())
    data_dir = Path(server.env["DATA_DIR"])
    datasets_before = httpx.get(f"{server.url}/api/v1/datasets", timeout=30).json()
    server.stop()

    leftovers = _plant(data_dir, LEFTOVERS)
    being_written = _plant(data_dir, BEING_WRITTEN)
    with ExitStack() as writers:
        _hold(being_written, writers)
        server = start_server(data_dir, **_db_env(server.env))
        assert [p.name for p in leftovers if p.exists()] == []
        assert [p.name for p in being_written if not p.exists()] == []
        listed = httpx.get(f"{server.url}/api/v1/datasets", timeout=30).json()
        assert listed == datasets_before  # recorded datasets stay, leftovers are not listed
        server.stop()
    # The writers are gone without committing a row (as after a SIGKILL): now they go too.
    server = start_server(data_dir, **_db_env(server.env))
    assert [p.name for p in being_written if p.exists()] == []
    server.stop()
    if database == "sqlite":
        assert_consistent(data_dir)


def _db_env(env: dict[str, str]) -> dict[str, str]:
    return {"DATABASE_URL": env["DATABASE_URL"]} if "DATABASE_URL" in env else {}
