"""Dataset answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from backend.schemas.common import UtcTime


class DatasetInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    rows: int
    columns: list[str]
    text_column: str
    label_column: str
    classes: dict[str, int]
    positive_label: str | None = None
    label_names: dict[str, str] | None = None
    dropped_rows: int
    sha256: str
    created_at: UtcTime


# The most rows a preview returns: enough to see the file and choose its columns, while the
# preview itself stays as lean as the chunked upload (the counts still cover every row).
PREVIEW_MAX_ROWS = 1000


class DroppedRows(BaseModel):
    """Why rows would be dropped; a row with neither text nor label counts as empty_text."""

    empty_text: int
    missing_label: int


class DatasetPreview(BaseModel):
    """What `POST /api/v1/datasets` would make of a file, read by the same code; nothing kept.

    The file-level facts are always there (an unreadable file is a 4xx, as for upload); the
    dataset-level ones are null when `error` says why upload would refuse the file.
    """

    filename: str | None = None
    encoding: str
    delimiter: str
    columns: list[str]
    rows: int  # data rows in the file, before any is dropped
    head: list[list[str]]  # the file's first rows, every column, as read
    head_kept: list[bool]  # per row of `head`: whether upload would keep it (empty on error)
    text_column: str | None = None
    label_column: str | None = None
    label_kind: str | None = None
    classes: dict[str, int] | None = None
    positive_label: str | None = None
    rows_kept: int | None = None
    dropped_rows: int | None = None
    dropped: DroppedRows | None = None
    error: str | None = None  # upload's 400 detail for this file and these fields
