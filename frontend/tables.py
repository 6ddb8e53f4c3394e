"""Reading a CSV dropped on the EDA or Predict page, which any role may do.

The Data page does not use this: its preview must be what upload stores, so it asks the server
(`POST /api/v1/datasets/preview`, editor). These pages only explore or score a file here.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

DELIMITERS = ",;\t|"
ENCODINGS = ("utf-8-sig", "cp1251")
TEXT_COLUMN_NAMES = ("text", "comment_text", "comment")
LABEL_COLUMN_NAMES = ("label", "toxic", "class", "target")


class UnreadableCsv(ValueError):
    """The bytes are not a CSV this app can read; the message says why."""


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1251, the encodings the backend accepts."""
    for encoding in ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableCsv("the file is neither UTF-8 nor cp1251 text")


def sniff_delimiter(text: str) -> str:
    """One of , ; tab | judged from the first lines; comma when unsure."""
    head = text[: 64 * 1024]
    try:
        return csv.Sniffer().sniff(head, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first_line = head.splitlines()[0] if head else ""
        counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
        best = max(counts, key=lambda delimiter: counts[delimiter])
        return best if counts[best] else ","


def read_csv_bytes(content: bytes) -> pd.DataFrame:
    """A DataFrame from uploaded CSV bytes; raises UnreadableCsv with a readable reason."""
    if not content.strip():
        raise UnreadableCsv("the file is empty")
    text = decode(content)
    delimiter = sniff_delimiter(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise UnreadableCsv(f"cannot parse the CSV: {exc}") from exc
    if frame.shape[1] < 2:
        raise UnreadableCsv("need at least two columns (a text and a label)")
    return frame


def guess_text_column(frame: pd.DataFrame) -> str:
    """A column named text/comment_text/comment, else the column with the longest strings."""
    lowered = {str(column).lower(): column for column in frame.columns}
    for name in TEXT_COLUMN_NAMES:
        if name in lowered:
            return str(lowered[name])
    object_columns = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if object_columns:
        lengths = {c: frame[c].astype(str).str.len().mean() for c in object_columns}
        return str(max(lengths, key=lambda column: lengths[column]))
    return str(frame.columns[0])


def guess_label_column(frame: pd.DataFrame, text_column: str) -> str:
    """A column named label/toxic/class/target, else the column with the fewest distinct values."""
    lowered = {str(column).lower(): column for column in frame.columns}
    for name in LABEL_COLUMN_NAMES:
        if name in lowered and str(lowered[name]) != text_column:
            return str(lowered[name])
    others = [c for c in frame.columns if str(c) != text_column]
    return str(min(others, key=lambda column: frame[column].nunique()))


def labelled_texts(frame: pd.DataFrame, text_column: str, label_column: str) -> pd.DataFrame:
    """Columns `text` and `label`; rows with an empty text or label dropped, as the backend does."""
    pair = frame[[text_column, label_column]].copy()
    pair.columns = ["text", "label"]
    pair = pair.dropna()
    pair = pair[pair["text"].astype(str).str.strip() != ""]
    return pair.reset_index(drop=True)
