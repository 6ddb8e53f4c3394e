"""Start-up cleanup: remove the files that no database record vouches for.

Every file the service keeps has a row beside it (a dataset's CSV, a model's skops file) or
belongs to a queued or running task (a retrain's split of the new data, which
`RetrainFiles.sweep` removes). A crash between
writing a file and committing its row leaves a file nobody lists; this removes it. Writers in
live processes hold an flock on such a file until their row is committed (`FileClaim`), and
`remove_unless_claimed` skips locked files, so cleanup never races an upload or a fit in
another process. Callers hold the default-models lock: that job writes model files and their
rows without a claim.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from sqlalchemy import select

from backend.db.models import DatasetRow, ModelRow, TaskRow
from backend.db.session import Database
from backend.files import remove_unless_claimed
from backend.schemas.tasks import ACTIVE_STATUSES
from backend.services.retrain_files import PATTERNS as RETRAIN_SPLITS
from backend.settings import Settings

log = logging.getLogger(__name__)

LIVE_TASK = ACTIVE_STATUSES


def _files(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        yield from (path for path in directory.iterdir() if path.is_file())


def dataset_files_in_use(db: Database) -> set[str]:
    """Names in DATA_DIR/datasets that a dataset row or a live task's input vouches for."""
    with db.session() as session:
        names = set(session.scalars(select(DatasetRow.path)))
        requests: Iterable[dict[str, Any]] = session.scalars(
            select(TaskRow.request).where(TaskRow.status.in_(LIVE_TASK))
        )
        for request in requests:
            names.update(Path(p).name for p in _task_inputs(request))
    return names


def _task_inputs(request: Any) -> list[str]:
    if not isinstance(request, dict):
        return []
    job = request.get("job") or {}
    retrain = request.get("retrain") or {}
    paths = [
        job.get("dataset_path"),
        *(job.get("extra_dataset_paths") or ()),
        retrain.get("holdout_path"),
        retrain.get("train_path"),
    ]
    return [p for p in paths if isinstance(p, str)]


def model_files_in_use(db: Database) -> set[str]:
    """Names in MODELS_DIR that a trained model, or a fit still in training, vouches for.

    A fit's worker writes its file before the runner records it as trained; the model row
    says `training` meanwhile. A fit whose process died was failed by `fail_orphans` before
    this runs, so its file counts as unvouched.
    """
    with db.session() as session:
        rows = session.execute(
            select(ModelRow.id, ModelRow.status, ModelRow.artifact_path).where(
                ModelRow.status.in_(("trained", "training"))
            )
        ).all()
    return {artifact or f"{model_id}.skops" for model_id, _status, artifact in rows}


def _unused(in_use: Callable[[], set[str]], name: str) -> bool:
    """Re-read under the file's lock: a writer may have committed its row meanwhile."""
    return name not in in_use()


def _remove_unvouched(directory: Path, in_use: Callable[[], set[str]], what: str) -> list[str]:
    known = in_use()
    removed = []
    for path in _files(directory):
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            unvouched = True  # a temp copy: no record ever names it
        elif any(fnmatch(path.name, pattern) for pattern in RETRAIN_SPLITS):
            continue  # RetrainFiles.sweep owns these, under its own lock
        else:
            unvouched = path.name not in known
        if unvouched and remove_unless_claimed(path, functools.partial(_unused, in_use, path.name)):
            removed.append(path.name)
    if removed:
        log.info(
            "removed %d leftover %s without a record: %s", len(removed), what, sorted(removed)[:20]
        )
    return removed


def remove_leftover_files(settings: Settings, db: Database) -> list[str]:
    """Remove upload temp files, dataset files and model files no record vouches for."""
    removed = [
        path.name
        for path in _files(settings.uploads_dir)
        if path.name.endswith((".upload", ".tmp")) and remove_unless_claimed(path)
    ]
    removed += _remove_unvouched(
        settings.datasets_dir, lambda: dataset_files_in_use(db), "dataset files"
    )
    removed += _remove_unvouched(
        settings.artifacts_dir, lambda: model_files_in_use(db), "model files"
    )
    return removed
