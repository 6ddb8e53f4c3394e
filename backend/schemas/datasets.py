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
