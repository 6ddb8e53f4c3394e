"""The split files of a retrain (`retrain_*-train.csv`, `retrain_*-holdout.csv`).

They live in DATASETS_DIR only while their task is queued or running. The gate removes them
when it decides; every other end (cancel, failure, an error, a restart) is caught by `sweep`,
which the task runner calls every few seconds and start-up calls once: any such file that no
queued or running retrain task names is deleted. Writing the files and queueing their task
happen under the same lock as the sweep, so a sweep never sees files whose task is not
recorded yet.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from backend.db.models import TaskRow
from backend.db.session import Database
from backend.files import file_lock
from backend.schemas.tasks import ACTIVE_STATUSES

log = logging.getLogger(__name__)

PATTERNS = ("retrain_*-train.csv", "retrain_*-holdout.csv")
ACTIVE = ACTIVE_STATUSES


class RetrainFiles:
    def __init__(self, db: Database, datasets_dir: Path, lock_path: Path) -> None:
        self.db = db
        self.datasets_dir = datasets_dir
        self.lock_path = lock_path

    @contextmanager
    def writing(self, *paths: Path) -> Iterator[None]:
        """Hold the sweep off while `paths` are written and their task is queued.

        If queueing fails (e.g. 429 from MAX_QUEUED_FITS), the files go at once.
        """
        with file_lock(self.lock_path):
            try:
                yield
            except BaseException:
                remove(*paths)
                raise

    def sweep(self) -> list[str]:
        """Delete split files that no queued or running retrain task names."""
        with file_lock(self.lock_path):
            files = [p for pattern in PATTERNS for p in self.datasets_dir.glob(pattern)]
            if not files:
                return []
            needed = self._active_paths()
            removed = []
            for path in files:
                if path.name not in needed:
                    remove(path)
                    removed.append(path.name)
        if removed:
            log.info("removed %d retrain split files of ended tasks", len(removed))
        return removed

    def _active_paths(self) -> set[str]:
        with self.db.session() as session:
            requests: Iterable[dict[str, Any] | None] = session.scalars(
                select(TaskRow.request).where(TaskRow.kind == "retrain", TaskRow.status.in_(ACTIVE))
            ).all()
        names: set[str] = set()
        for request in requests:
            spec = (request or {}).get("retrain") or {}
            for key in ("train_path", "holdout_path"):
                if spec.get(key):
                    names.add(Path(spec[key]).name)
        return names


def remove(*paths: Path | str) -> None:
    for path in paths:
        with contextlib.suppress(OSError):  # a read-only disk must not fail the caller
            Path(path).unlink(missing_ok=True)
