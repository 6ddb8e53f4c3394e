"""Datasets: uploads streamed to disk, parsed, stored as clean `text,label` CSV files."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
from sqlalchemy import select

from backend.db.models import DatasetRow
from backend.db.session import Database
from backend.errors import DatasetInvalid, DatasetNotFound, PayloadTooLarge
from backend.files import FileClaim, atomic_file
from backend.ml.training import read_dataset
from backend.schemas.datasets import DatasetInfo, DatasetPreview, DroppedRows
from backend.services.csv_import import ImportedTable, choose_columns, import_csv, scan_table
from backend.services.ids import is_safe_id, new_id
from backend.services.label_names import parse_label_names
from backend.settings import Settings

log = logging.getLogger(__name__)
CHUNK = 1 << 20


class DatasetService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def create(
        self,
        upload: BinaryIO,
        *,
        filename: str | None,
        name: str | None,
        text_column: str | None = None,
        label_column: str | None = None,
        positive_label: str | None = None,
        label_names: str | None = None,
    ) -> DatasetInfo:
        """Stream `upload` to a temp file, import it, store it; nothing is listed half-done."""
        refuse_nul_fields(
            name=name,
            text_column=text_column,
            label_column=label_column,
            positive_label=positive_label,
            label_names=label_names,
        )
        with self._received(upload) as (claim, tmp_path, sha):
            table = import_csv(
                tmp_path,
                text_column=text_column or None,
                label_column=label_column or None,
                positive_label=positive_label,
                max_columns=self.settings.max_csv_columns,
                max_classes=self.settings.max_classes,
                max_rows=self.settings.max_dataset_rows,
            )
            names = parse_label_names(label_names, table.classes)
            label = (name or "").strip() or Path(filename or "dataset.csv").stem or "dataset"
            return self._store(new_id("ds"), label[:255], table, sha, claim, names)

    def preview(
        self,
        upload: BinaryIO,
        *,
        filename: str | None,
        text_column: str | None = None,
        label_column: str | None = None,
        positive_label: str | None = None,
        label_names: str | None = None,
        head: int = 20,
    ) -> DatasetPreview:
        """What `create` would store from this upload, without storing anything.

        Same checks in the same order: the body limit, the file-level limits (a 4xx), then
        the dataset rules of `import_csv`, whose refusal becomes `error` so that the
        caller still sees the columns and rows to choose from.
        """
        refuse_nul_fields(
            text_column=text_column,
            label_column=label_column,
            positive_label=positive_label,
            label_names=label_names,
        )
        with self._received(upload) as (_claim, tmp_path, _sha):
            # Read in chunks like an upload, never whole: the first rows and the row count.
            raw = scan_table(
                tmp_path, self.settings.max_csv_columns, self.settings.max_dataset_rows, head
            )
            preview = DatasetPreview(
                filename=filename,
                encoding=raw.encoding,
                delimiter=raw.delimiter,
                columns=[str(c) for c in raw.frame.columns],
                rows=raw.rows,
                head=raw.frame.to_numpy().tolist(),
                head_kept=[],
            )
            try:
                preview.text_column, preview.label_column = choose_columns(
                    raw.sample, text_column or None, label_column or None
                )
                table = import_csv(
                    tmp_path,
                    text_column=preview.text_column,
                    label_column=preview.label_column,
                    positive_label=positive_label,
                    max_classes=self.settings.max_classes,
                    head=head,
                )
                parse_label_names(label_names, table.classes)
            except DatasetInvalid as exc:
                preview.error = exc.detail
                return preview
        preview.head_kept = table.head_kept
        preview.label_kind = table.label_kind
        preview.classes = table.classes
        preview.positive_label = None if table.positive_label is None else str(table.positive_label)
        preview.rows_kept = table.rows
        preview.dropped_rows = table.dropped_rows
        preview.dropped = DroppedRows(**table.dropped_reasons)
        return preview

    @contextmanager
    def _received(self, upload: BinaryIO) -> Iterator[tuple[FileClaim, Path, str]]:
        """`upload` streamed to a locked temp file under MAX_UPLOAD_MB, removed afterwards
        (upload and preview alike): the claim, the file's path and its sha256."""
        with (
            FileClaim() as claim,
            claim.temp_file(self.settings.uploads_dir, ".upload") as (fd, path),
        ):
            yield claim, path, self._copy_limited(upload, fd)

    def _copy_limited(self, upload: BinaryIO, fd: int) -> str:
        limit = self.settings.max_upload_bytes
        digest = hashlib.sha256()
        written = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise PayloadTooLarge(
                        f"the file is over MAX_UPLOAD_MB={self.settings.max_upload_mb:g} MB"
                    )
                digest.update(chunk)
                out.write(chunk)
        return digest.hexdigest()

    def import_file(
        self, path: Path, *, dataset_id: str, name: str, label_names: dict[str, str] | None = None
    ) -> DatasetInfo:
        """Register a CSV already on disk (the bundled sample) under a fixed id."""
        with path.open("rb") as handle:
            sha = hashlib.file_digest(handle, "sha256").hexdigest()
        with FileClaim() as claim:
            return self._store(dataset_id, name, import_csv(path), sha, claim, label_names)

    def _store(
        self,
        dataset_id: str,
        name: str,
        table: ImportedTable,
        sha: str,
        claim: FileClaim,
        label_names: dict[str, str] | None = None,
    ) -> DatasetInfo:
        """Write the dataset file, then its row; the claim keeps start-up cleanup in another
        process off the file until the row is committed (a crash in between leaves a file
        that the next start-up removes)."""
        target = self.settings.datasets_dir / f"{dataset_id}.csv"
        with claim.atomic_file(target, "w", encoding="utf-8", newline="") as handle:
            table.write_csv(handle)  # chunk by chunk, as it was checked
        row = DatasetRow(
            id=dataset_id,
            name=name,
            rows=table.rows,
            columns=table.columns,
            text_column=table.text_column,
            label_column=table.label_column,
            label_kind=table.label_kind,
            classes=table.classes,
            positive_label=None if table.positive_label is None else str(table.positive_label),
            dropped_rows=table.dropped_rows,
            label_names=label_names,
            sha256=sha,
            path=target.name,
        )
        try:
            with self.db.session() as session:
                session.add(row)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        log.info("dataset %s stored: %d rows, classes %s", dataset_id, row.rows, row.classes)
        return DatasetInfo.model_validate(row)

    def list(self) -> list[DatasetInfo]:
        with self.db.session() as session:
            rows = session.scalars(select(DatasetRow).order_by(DatasetRow.created_at.desc()))
            return [DatasetInfo.model_validate(r) for r in rows]

    def row(self, dataset_id: str) -> DatasetRow:
        if not is_safe_id(dataset_id):
            raise DatasetNotFound(dataset_id)
        with self.db.session() as session:
            found = session.get(DatasetRow, dataset_id)
            if found is None:
                raise DatasetNotFound(dataset_id)
            return found

    def get(self, dataset_id: str) -> DatasetInfo:
        return DatasetInfo.model_validate(self.row(dataset_id))

    def path(self, row: DatasetRow) -> Path:
        return self.settings.datasets_dir / row.path

    def positive_label(self, row: DatasetRow) -> Any:
        if row.positive_label is None:
            return None
        return int(row.positive_label) if row.label_kind == "int" else row.positive_label

    def frame(self, row: DatasetRow) -> pd.DataFrame:
        return read_dataset(str(self.path(row)), row.label_kind)

    def delete(self, dataset_id: str) -> None:
        row = self.row(dataset_id)
        with self.db.session() as session:
            found = session.get(DatasetRow, dataset_id)
            if found is not None:
                session.delete(found)
        self.path(row).unlink(missing_ok=True)


def write_frame_atomically(
    frame: pd.DataFrame, target: Path, claim: FileClaim | None = None
) -> None:
    """Write `frame` as CSV atomically; with a claim, it stays locked until the claim ends."""
    opened = claim.atomic_file if claim is not None else atomic_file
    with opened(target, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)


def refuse_nul_fields(**fields: str | None) -> None:
    """Refuse what PostgreSQL cannot store (NUL, over-long values) on every database alike."""
    for field_name, value in fields.items():
        if value is not None and "\x00" in value:
            raise DatasetInvalid(f"{field_name} must not contain NUL (\\x00) characters")
        # The database column's size, on any database (a longer `name` is cut, it is a label).
        if value is not None and field_name != "name" and len(value) > 255:
            raise DatasetInvalid(f"{field_name} is {len(value)} characters long; at most 255")
