"""The serving table's re-reads on a real SQLite file: one at a time, shared by the requests
that need it; a moved change signal waits for a re-read, an old table does not."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from backend.db.migrate import upgrade_to_head
from backend.db.session import Database
from backend.services.serving import ServingTable
from backend.services.serving_signal import LoadedSetStamp, ServingSignal


class GatedDatabase(Database):
    """Opens a session only once `gate` is open: a re-read held there has read the signal."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.gate = threading.Event()
        self.gate.set()

    @contextmanager
    def session(self) -> Iterator[Session]:
        assert self.gate.wait(10), "the test never opened the gate"
        with super().session() as session:
            yield session


class CountedTable(ServingTable):
    """Counts re-reads begun and finished."""

    def __init__(self, db: GatedDatabase, stamp: LoadedSetStamp, max_age_s: float) -> None:
        super().__init__(db, stamp, max_age_s)
        self.gate = db.gate
        self.started = 0
        self.finished = 0

    def refresh(self) -> float:
        self.started += 1
        read_at = super().refresh()
        self.finished += 1
        return read_at


@pytest.fixture
def table(tmp_path: Path) -> CountedTable:
    db = GatedDatabase(f"sqlite:///{tmp_path}/app.db")
    upgrade_to_head(db, tmp_path)
    return CountedTable(db, LoadedSetStamp(tmp_path / ".loaded-set"), max_age_s=60.0)


def bump(stamp: ServingSignal) -> None:
    before = stamp.read()
    while stamp.read() == before:  # an mtime: make sure it moves on a coarse clock too
        stamp.bump()
        time.sleep(0.001)


async def hold_a_background_reread(table: CountedTable) -> None:
    """A fresh table grown old, and its background re-read started and held at the gate."""
    await table.ensure_fresh()
    table.max_age_s = 0.01
    await asyncio.sleep(0.05)
    table.gate.clear()
    # Nothing changed, the table is only old: the requests go on without waiting.
    await asyncio.wait_for(asyncio.gather(*(table.ensure_fresh() for _ in range(8))), 2)
    await asyncio.sleep(0.05)


def test_requests_in_flight_share_one_reread(table: CountedTable) -> None:
    async def scenario() -> None:
        await asyncio.gather(*(table.ensure_fresh() for _ in range(8)))
        assert (table.started, table.finished) == (1, 1)
        await asyncio.gather(*(table.ensure_fresh() for _ in range(8)))
        assert table.started == 1, "a fresh table was read again"
        bump(table.stamp)
        await asyncio.gather(*(table.ensure_fresh() for _ in range(8)))
        assert (table.started, table.finished) == (2, 2)

    asyncio.run(scenario())


def test_an_old_table_is_reread_in_the_background(table: CountedTable) -> None:
    async def scenario() -> None:
        await hold_a_background_reread(table)
        assert (table.started, table.finished) == (2, 1), "one re-read, in flight"
        table.gate.set()
        for _ in range(200):
            if table.finished == 2:
                break
            await asyncio.sleep(0.01)
        assert (table.started, table.finished) == (2, 2)

    asyncio.run(scenario())


def test_a_change_waits_for_a_reread_begun_after_it(table: CountedTable) -> None:
    async def scenario() -> None:
        await hold_a_background_reread(table)
        bump(table.stamp)  # a change after that re-read read the signal: not its to answer
        waiting = asyncio.ensure_future(table.ensure_fresh())
        await asyncio.sleep(0.05)
        assert not waiting.done(), "served without re-reading after the change"
        table.gate.set()
        await asyncio.wait_for(waiting, 5)
        assert (table.started, table.finished) == (3, 3)
        assert table.stamp.read() == table._seen_stamp

    asyncio.run(scenario())


def test_a_failed_reread_reaches_the_request_that_waited(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/app.db")  # no tables: the query fails
    table = ServingTable(db, LoadedSetStamp(tmp_path / ".loaded-set"))

    async def scenario() -> None:
        with pytest.raises(Exception, match="no such table"):
            await table.ensure_fresh()

    asyncio.run(scenario())
