"""MLflow's scoring-server request formats, read into the list of texts to classify.

`mlflow models serve` takes `application/json` bodies with exactly one of `dataframe_split`,
`dataframe_records`, `instances` or `inputs` (and optionally `params`), or `text/csv` with a
header line. A text classifier has one input column: the single column, or the one named
`text`. Anything else is a 400 (415 for another content type) that says what to send instead,
where MLflow would answer its own `BAD_REQUEST` error body.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
from pydantic import BaseModel

from backend.errors import BadRequest, UnsupportedMediaType
from backend.schemas.common import Label

INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
TEXT_COLUMN = "text"
CONTENT_TYPES = ("application/json", "text/csv")


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def texts_from_invocation(content_type: str | None, raw: bytes) -> list[str]:
    """The texts an MLflow-style scoring request carries, in order."""
    kind = media_type(content_type)
    if kind == "text/csv":
        return _texts_from_csv(raw)
    if kind != "application/json":
        raise UnsupportedMediaType(
            f"content type {kind or '(none)'!r} is not supported; send one of "
            f"{', '.join(CONTENT_TYPES)}"
        )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise BadRequest(_one_input_key_message([]))
    present = [key for key in INPUT_KEYS if key in body]
    unknown = sorted(set(body) - set(INPUT_KEYS) - {"params"})
    if len(present) != 1 or unknown:
        raise BadRequest(_one_input_key_message(sorted(body)))
    key = present[0]
    value = body[key]
    if key == "dataframe_split":
        texts = _from_split(value)
    elif key == "dataframe_records":
        texts = _from_records(value, key)
    else:
        texts = _from_tensor_input(value, key)
    if not texts:
        raise BadRequest(f"{key!r} holds no rows; send at least one text")
    return texts


def _one_input_key_message(received: list[str]) -> str:
    return (
        "the body must be a JSON object with exactly one of the input fields "
        f"{', '.join(INPUT_KEYS)} (and optionally 'params'); received fields: {received}"
    )


def _from_split(value: Any) -> list[str]:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise BadRequest(
            "'dataframe_split' must be an object with 'data' (a list of rows) and optionally "
            "'columns' and 'index', as pandas' to_dict(orient='split') writes it"
        )
    columns = value.get("columns")
    rows = value["data"]
    if columns is None:
        position = 0
    else:
        if not isinstance(columns, list):
            raise BadRequest("'dataframe_split.columns' must be a list of column names")
        position = _text_column_position([str(c) for c in columns])
    texts = []
    for row in rows:
        if isinstance(row, list) and len(row) <= position:
            raise BadRequest(f"a row of dataframe_split.data has no column {position}")
        texts.append(
            _as_text(row[position] if isinstance(row, list) else row, "dataframe_split.data")
        )
    return texts


def _from_records(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise BadRequest(
            f'{key!r} must be a list of objects, one per row, e.g. [{{"{TEXT_COLUMN}": "..."}}]'
        )
    texts = []
    for record in value:
        column = _text_column_name(list(record))
        texts.append(_as_text(record.get(column), key))
    return texts


def _from_tensor_input(value: Any, key: str) -> list[str]:
    if isinstance(value, dict):  # columnar: {"text": ["...", ...]}
        column = _text_column_name(list(value))
        cells = value[column]
        if not isinstance(cells, list):
            raise BadRequest(f"{key}.{column} must be a list of texts")
        return [_as_text(cell, key) for cell in cells]
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return _from_records(value, key)
        return [_as_text(item, key) for item in value]
    raise BadRequest(f"{key!r} must be a list of texts, a list of rows or an object of columns")


def _text_column_position(columns: list[str]) -> int:
    return columns.index(_text_column_name(columns))


def _text_column_name(columns: list[str]) -> str:
    if len(columns) == 1:
        return columns[0]
    if TEXT_COLUMN in columns:
        return TEXT_COLUMN
    raise BadRequest(
        f"cannot tell which column holds the text among {columns[:20]}; send a single "
        f"column or name it {TEXT_COLUMN!r}"
    )


def _as_text(cell: Any, where: str) -> str:
    if isinstance(cell, list) and len(cell) == 1:  # a one-column row: ["text"]
        cell = cell[0]
    if not isinstance(cell, str):
        raise BadRequest(f"every text in {where} must be a string; got {type(cell).__name__}")
    return cell


def _texts_from_csv(raw: bytes) -> list[str]:
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV body must be UTF-8") from None
    try:
        rows = list(csv.reader(io.StringIO(content, newline="")))
    except csv.Error as exc:
        raise BadRequest(f"the CSV body cannot be parsed ({exc})") from None
    if len(rows) < 2:
        raise BadRequest("the CSV body needs a header line and at least one row")
    position = _text_column_position(rows[0])
    texts = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue  # a blank line, as pandas skips it
        if len(row) != len(rows[0]):
            raise BadRequest(
                f"CSV line {number} has {len(row)} fields; the header has {len(rows[0])}"
            )
        texts.append(row[position])
    if not texts:
        raise BadRequest("the CSV body has a header but no rows")
    return texts


class InvocationsResponse(BaseModel):
    predictions: list[Label]


_EXAMPLE = {"dataframe_split": {"columns": ["text"], "data": [["you are great"], ["idiot"]]}}
# The route reads the raw body (JSON or CSV), so its request schema is stated here for /docs.
INVOCATIONS_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "exactly one of " + ", ".join(INPUT_KEYS) + "; optional params",
                "properties": {key: {} for key in (*INPUT_KEYS, "params")},
            },
            "example": _EXAMPLE,
        },
        "text/csv": {"schema": {"type": "string"}, "example": "text\nyou are great\nidiot\n"},
    },
}
