"""Reading a CSV dropped on the EDA or Predict page, which any role may do.

The Data page does not use this: its preview must be what upload stores, so it asks the server
(`POST /api/v1/datasets/preview`, editor). These pages only explore or score a file here.
"""

from __future__ import annotations

import io

import pandas as pd

from toxiclf_csv import (
    LABEL_COLUMN_NAMES,
    SNIFF_BYTES,
    TEXT_COLUMN_NAMES,
    CsvFormatError,
    detect_encoding,
    named_column,
    sniff_delimiter,
)


class UnreadableCsv(ValueError):
    """The bytes are not a CSV this app can read; the message says why."""


def decode(content: bytes) -> str:
    """The text of the file in the encoding the backend would read it with (toxiclf_csv)."""
    try:
        return content.decode(detect_encoding(content[:SNIFF_BYTES]))
    except CsvFormatError as exc:
        raise UnreadableCsv(str(exc)) from None
    except UnicodeDecodeError as exc:  # the head was fine, a later byte is not
        raise UnreadableCsv(f"the file is not valid text past its start: {exc.reason}") from None


def read_csv_bytes(content: bytes) -> pd.DataFrame:
    """A DataFrame from uploaded CSV bytes; raises UnreadableCsv with a readable reason."""
    if not content.strip():
        raise UnreadableCsv("the file is empty")
    text = decode(content)
    delimiter = sniff_delimiter(text[:SNIFF_BYTES])
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise UnreadableCsv(f"cannot parse the CSV: {exc}") from exc
    if frame.shape[1] < 2:
        raise UnreadableCsv("need at least two columns (a text and a label)")
    return frame


def guess_text_column(frame: pd.DataFrame) -> str:
    """A column named text/comment_text/comment, else the column with the longest strings."""
    named = named_column(map(str, frame.columns), TEXT_COLUMN_NAMES)
    if named is not None:
        return named
    object_columns = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if object_columns:
        lengths = {c: frame[c].astype(str).str.len().mean() for c in object_columns}
        return str(max(lengths, key=lambda column: lengths[column]))
    return str(frame.columns[0])


def guess_label_column(frame: pd.DataFrame, text_column: str) -> str:
    """A column named label/toxic/class/target, else the column with the fewest distinct values."""
    others = [c for c in frame.columns if str(c) != text_column]
    named = named_column(map(str, others), LABEL_COLUMN_NAMES)
    if named is not None:
        return named
    return str(min(others, key=lambda column: frame[column].nunique()))


def labelled_texts(frame: pd.DataFrame, text_column: str, label_column: str) -> pd.DataFrame:
    """Columns `text` and `label`; rows with an empty text or label dropped, as the backend does."""
    pair = frame[[text_column, label_column]].copy()
    pair.columns = ["text", "label"]
    pair = pair.dropna()
    pair = pair[pair["text"].astype(str).str.strip() != ""]
    return pair.reset_index(drop=True)
