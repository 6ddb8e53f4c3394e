"""Task records in the database: the queue, progress, cancel requests and ownership.

The database is the source of truth so that several server processes agree: a process claims
a queued task atomically, keeps a heartbeat on what it runs, and any process can ask for a
cancel that the owner carries out.
"""

from __future__ import annotations

import builtins
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from backend.db.models import ModelRow, TaskRow, utcnow
from backend.db.session import Database
from backend.errors import QueueFull, TaskAlreadyEnded, TaskNotFound
from backend.schemas.tasks import ENDED_STATUSES, TaskInfo, TaskKind, TaskStatus
from backend.services.ids import is_safe_id, new_id

ENDED = ENDED_STATUSES
RESTARTED = "the server restarted while this task was running; submit it again"


def process_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_alive(owner: str, heartbeat_at: datetime | None, stale_after_s: float) -> bool:
    """Same host: is the pid alive (and not us in a past life)? Other host: fresh heartbeat?"""
    host, _, rest = owner.partition(":")
    pid_text, _, _instance = rest.partition(":")
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return False  # a record from an earlier process that had our pid
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if heartbeat_at is None:
        return False
    return utcnow() - heartbeat_at < timedelta(seconds=stale_after_s)


class TaskStore:
    def __init__(self, db: Database, max_queued: int) -> None:
        self.db = db
        self.max_queued = max_queued

    def create(
        self, kind: TaskKind, model_id: str, request: dict[str, Any], task_id: str | None = None
    ) -> TaskRow:
        with self.db.session() as session:
            waiting = session.scalar(
                select(func.count()).select_from(TaskRow).where(TaskRow.status == "queued")
            )
            if waiting is not None and waiting >= self.max_queued:
                raise QueueFull(
                    f"{waiting} fits are already queued (MAX_QUEUED_FITS={self.max_queued}); "
                    "wait for some to finish or cancel them"
                )
            row = TaskRow(
                id=task_id or new_id("task"),
                kind=kind,
                model_id=model_id,
                status="queued",
                progress=0.0,
                stage="queued",
                request=request,
            )
            session.add(row)
            return row

    def get(self, task_id: str) -> TaskInfo:
        return TaskInfo.model_validate(self.row(task_id))

    def row(self, task_id: str) -> TaskRow:
        if not is_safe_id(task_id):
            raise TaskNotFound(task_id)
        with self.db.session() as session:
            found = session.get(TaskRow, task_id)
            if found is None:
                raise TaskNotFound(task_id)
            return found

    def list(self, limit: int = 500) -> builtins.list[TaskInfo]:
        with self.db.session() as session:
            rows = session.scalars(
                select(TaskRow).order_by(TaskRow.created_at.desc(), TaskRow.id).limit(limit)
            )
            return [TaskInfo.model_validate(r) for r in rows]

    def for_model(self, model_id: str) -> builtins.list[TaskRow]:
        with self.db.session() as session:
            return list(session.scalars(select(TaskRow).where(TaskRow.model_id == model_id)))

    def count_by_status(self) -> dict[str, int]:
        with self.db.session() as session:
            rows = session.execute(select(TaskRow.status, func.count()).group_by(TaskRow.status))
            return {status: int(n) for status, n in rows}

    def request_cancel(self, task_id: str) -> TaskRow:
        """Cancel a queued task at once; flag a running one for its owner to stop."""
        row = self.row(task_id)
        if row.status in ENDED:
            raise TaskAlreadyEnded(f"task {task_id} has already ended ({row.status})")
        with self.db.session() as session:
            done = session.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.status == "queued")
                .values(
                    status="cancelled",
                    stage="cancelled",
                    finished_at=utcnow(),
                    cancel_requested=True,
                )
            ).rowcount  # type: ignore[attr-defined]  # DML answers a CursorResult
            if done:
                _fail_model(session, row.model_id, "the fit was cancelled before it started")
            else:
                session.execute(
                    update(TaskRow)
                    .where(TaskRow.id == task_id, TaskRow.status == "running")
                    .values(cancel_requested=True)
                )
        return self.row(task_id)

    # --- used by the task runner of the owning process ---------------------------------

    def claim_next(self, owner: str) -> TaskRow | None:
        """Atomically move the oldest queued task to running under `owner`."""
        with self.db.session() as session:
            candidates = session.scalars(
                select(TaskRow.id)
                .where(TaskRow.status == "queued")
                .order_by(TaskRow.created_at, TaskRow.id)
                .limit(5)
            ).all()
            now = utcnow()
            for task_id in candidates:
                claimed = session.execute(
                    update(TaskRow)
                    .where(TaskRow.id == task_id, TaskRow.status == "queued")
                    .values(
                        status="running",
                        owner=owner,
                        started_at=now,
                        heartbeat_at=now,
                        stage="starting",
                        progress=0.0,
                    )
                ).rowcount  # type: ignore[attr-defined]  # DML answers a CursorResult
                if claimed:
                    return session.get(TaskRow, task_id)
        return None

    def heartbeat(self, owner: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(TaskRow)
                .where(TaskRow.owner == owner, TaskRow.status == "running")
                .values(heartbeat_at=utcnow())
            )

    def cancel_requested_ids(self, owner: str) -> builtins.list[str]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(TaskRow.id).where(
                        TaskRow.owner == owner,
                        TaskRow.status == "running",
                        TaskRow.cancel_requested.is_(True),
                    )
                )
            )

    def set_progress(self, task_id: str, progress: float, stage: str, pid: int | None) -> None:
        with self.db.session() as session:
            session.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.status == "running")
                .values(progress=progress, stage=stage, worker_pid=pid, heartbeat_at=utcnow())
            )

    def finish(
        self,
        task_id: str,
        status: TaskStatus,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "finished_at": utcnow(),
            "error": error,
            "stage": status if status != "succeeded" else "done",
        }
        if status == "succeeded":
            values["progress"] = 1.0
        if result is not None:
            values["result"] = result
        with self.db.session() as session:
            session.execute(update(TaskRow).where(TaskRow.id == task_id).values(**values))

    def requeue(self, task_id: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.status == "running")
                .values(
                    status="queued",
                    owner=None,
                    started_at=None,
                    progress=0.0,
                    stage="queued",
                    worker_pid=None,
                )
            )

    def fail_orphans(self, stale_after_s: float, me: str) -> builtins.list[str]:
        """Fail running tasks whose owning process is gone; return their ids."""
        failed: list[str] = []
        with self.db.session() as session:
            running = session.scalars(select(TaskRow).where(TaskRow.status == "running")).all()
            for row in running:
                if row.owner == me or (
                    row.owner and owner_is_alive(row.owner, row.heartbeat_at, stale_after_s)
                ):
                    continue
                done = session.execute(
                    update(TaskRow)
                    .where(
                        TaskRow.id == row.id,
                        TaskRow.status == "running",
                        TaskRow.owner == row.owner,
                    )
                    .values(status="failed", error=RESTARTED, stage="failed", finished_at=utcnow())
                ).rowcount  # type: ignore[attr-defined]  # DML answers a CursorResult
                if done:
                    _fail_model(session, row.model_id, RESTARTED)
                    failed.append(row.id)
        return failed

    def has_running(self) -> bool:
        with self.db.session() as session:
            return bool(
                session.scalar(
                    select(func.count()).select_from(TaskRow).where(TaskRow.status == "running")
                )
            )


def _fail_model(session: Any, model_id: str | None, error: str) -> None:
    if model_id:
        session.execute(
            update(ModelRow)
            .where(ModelRow.id == model_id, ModelRow.status == "training")
            .values(status="failed", error=error)
        )
