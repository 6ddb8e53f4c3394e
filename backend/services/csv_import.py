"""Turn an uploaded CSV file into a clean `text,label` table, or say exactly what is wrong.

Handles delimiter sniffing (`,` `;` tab `|`), UTF-8 (with or without BOM), UTF-16 with a BOM
and cp1251, column defaults, label typing and dropped-row counting.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from backend.errors import DatasetInvalid

TEXT_COLUMN_NAMES = ("text", "comment_text", "comment")
LABEL_COLUMN_NAMES = ("label", "toxic", "class", "target")
DELIMITERS = ",;\t|"
MISSING_LABELS = {"", "nan", "na", "n/a", "null", "none"}
_INT_RE = re.compile(r"^[+-]?\d+(\.0+)?$")
SNIFF_BYTES = 64 * 1024
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_COLUMN_NAME_CHARS = 255
# A header longer than this is refused before parsing (100 columns of 10,000 characters).
HEADER_MAX_CHARS = 1 << 20


@dataclass
class RawTable:
    """A CSV file as read: every column as strings, and how it was read."""

    frame: pd.DataFrame
    encoding: str
    delimiter: str


@dataclass
class ImportedTable:
    frame: pd.DataFrame  # columns: text, label (labels already in their final type)
    columns: list[str]
    text_column: str
    label_column: str
    label_kind: str  # "int" | "str"
    classes: dict[str, int]
    dropped_rows: int
    positive_label: Any
    # Why rows were dropped: {"empty_text": n, "missing_label": n}; a row with neither a text
    # nor a label counts as empty_text, so the counts add up to dropped_rows.
    dropped_reasons: dict[str, int]
    kept: pd.Series  # per row of the file read: whether it is one of `frame`'s rows


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise DatasetInvalid(
            "the file looks binary (it holds NUL bytes), not a CSV text file; "
            "export it as CSV in UTF-8"
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1251")
        return "cp1251"
    except UnicodeDecodeError:
        raise DatasetInvalid(
            "the file is neither UTF-8 nor cp1251 text; re-save it as UTF-8 CSV"
        ) from None


def sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _pick_column(
    columns: list[str], requested: str | None, names: tuple[str, ...], what: str
) -> str | None:
    if requested is not None:
        if requested not in columns:
            raise DatasetInvalid(
                f"{what} column {requested!r} is not in the file; its columns are {columns}"
            )
        return requested
    lowered = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _first_text_like(frame: pd.DataFrame, exclude: str | None) -> str | None:
    for column in frame.columns:
        if column == exclude:
            continue
        values = frame[column].head(500)
        values = values[values.str.strip() != ""]
        if len(values) and not values.str.fullmatch(r"[\s\d.,+\-eE]*").mean() > 0.5:
            return str(column)
    return None


def count_header_columns(path: Path, encoding: str, delimiter: str) -> tuple[int, bool]:
    """How many columns the header line names, and whether the whole line was read.

    Only the first line is read, and at most HEADER_MAX_CHARS of it: a header of a million
    columns used to be parsed whole (106 s, 5 GB) before anything looked at it.
    """
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        line = handle.readline(HEADER_MAX_CHARS)
    complete = len(line) < HEADER_MAX_CHARS or line.endswith(("\n", "\r"))
    if '"' not in line:
        return line.count(delimiter) + 1, complete  # no quotes: each delimiter splits
    return len(next(csv.reader([line], delimiter=delimiter), [])), complete


def count_lines(path: Path) -> int:
    """Line breaks in the file, counted in chunks without decoding (an upper bound of its
    rows: a quoted field may hold a line break)."""
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def read_table(path: Path, max_columns: int = 0, max_rows: int = 0) -> RawTable:
    """Read every column as strings with the sniffed encoding and delimiter.

    `max_columns` (MAX_CSV_COLUMNS) is checked on the header line and `max_rows`
    (MAX_DATASET_ROWS) on the line count before anything is parsed; 0 = no limit.
    """
    if max_rows and count_lines(path) - 1 > max_rows:
        raise DatasetInvalid(
            f"the file has over MAX_DATASET_ROWS={max_rows:,} rows; split it or sample it"
        )
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise DatasetInvalid("the file is empty; upload a CSV with a header and data rows")
    encoding = detect_encoding(head)
    sample = head.decode(encoding if encoding != "utf-8-sig" else "utf-8-sig", errors="ignore")
    delimiter = sniff_delimiter(sample)
    if max_columns:
        columns, complete = count_header_columns(path, encoding, delimiter)
        if columns > max_columns:
            raise DatasetInvalid(
                f"the header has {'' if complete else 'at least '}{columns:,} columns, over "
                f"MAX_CSV_COLUMNS={max_columns}; keep the text and label columns (and few "
                "others) and upload again"
            )
        if not complete:
            raise DatasetInvalid(
                f"the header line is over {HEADER_MAX_CHARS:,} characters; the first line "
                "must name the columns, briefly"
            )
    for attempt in (encoding, "cp1251") if encoding == "utf-8" else (encoding,):
        try:
            frame = pd.read_csv(
                path,
                sep=delimiter,
                encoding=attempt,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=True,
            )
            _refuse_repeated_names(sample, delimiter)
            frame.columns = [str(c) for c in frame.columns]
            return RawTable(frame, attempt, delimiter)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise DatasetInvalid(
                "the file has no header row; the first line must name the columns"
            ) from None
        except (pd.errors.ParserError, ValueError, csv.Error) as exc:
            message = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ""
            raise DatasetInvalid(f"the file is not a readable CSV: {message}") from None
    raise DatasetInvalid("the file is neither UTF-8 nor cp1251 text; re-save it as UTF-8 CSV")


def _refuse_repeated_names(sample: str, delimiter: str) -> None:
    """pandas renames a repeated column to `name.1`; which one was meant is a guess, so ask."""
    header = [
        name.strip() for name in next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    ]
    repeated = sorted(name for name, n in Counter(header).items() if name and n > 1)
    if repeated:
        raise DatasetInvalid(
            f"column names repeat in the header: {repeated[:20]}; give every column a unique name"
        )


def import_csv(
    path: Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    positive_label: str | None = None,
    max_columns: int = 0,
    max_classes: int = 0,
    max_rows: int = 0,
) -> ImportedTable:
    """Read, check and type an uploaded CSV; `max_columns`/`max_classes` are
    MAX_CSV_COLUMNS/MAX_CLASSES (0 = no limit)."""
    return table_from_raw(
        read_table(path, max_columns, max_rows).frame,
        text_column=text_column,
        label_column=label_column,
        positive_label=positive_label,
        max_classes=max_classes,
    )


def choose_columns(
    frame: pd.DataFrame, text_column: str | None = None, label_column: str | None = None
) -> tuple[str, str]:
    """The text and label columns: the ones asked for, else found by name (the text column
    also as the first column of text); DatasetInvalid says what to pass when none is found."""
    columns = [str(c) for c in frame.columns]
    if frame.empty:
        raise DatasetInvalid("the file has a header but no data rows")

    label_col = _pick_column(columns, label_column, LABEL_COLUMN_NAMES, "label")
    if label_col is None:
        raise DatasetInvalid(
            f"no label column found (looked for {list(LABEL_COLUMN_NAMES)}); the file's columns "
            f"are {columns[:50]}; pass label_column"
        )
    text_col = _pick_column(columns, text_column, TEXT_COLUMN_NAMES, "text")
    if text_col is None:
        text_col = _first_text_like(frame, exclude=label_col)
    if text_col is None:
        raise DatasetInvalid(
            f"no text column found (looked for {list(TEXT_COLUMN_NAMES)} or a column of text); "
            f"the file's columns are {columns[:50]}; pass text_column"
        )
    if text_col == label_col:
        raise DatasetInvalid("text_column and label_column must be different columns")
    for chosen in (text_col, label_col):
        if len(chosen) > MAX_COLUMN_NAME_CHARS:  # the database keeps names up to this long
            raise DatasetInvalid(
                f"column name {chosen[:40]!r}... is {len(chosen)} characters long; at most "
                f"{MAX_COLUMN_NAME_CHARS} (rename the column)"
            )
    return text_col, label_col


def table_from_raw(
    frame: pd.DataFrame,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    positive_label: str | None = None,
    max_classes: int = 0,
) -> ImportedTable:
    """The dataset a file read by `read_table` makes: columns chosen, rows kept, labels typed.

    Upload and preview both come here, so a preview's counts are the upload's.
    """
    text_col, label_col = choose_columns(frame, text_column, label_column)
    columns = [str(c) for c in frame.columns]

    texts = frame[text_col].astype(str)
    labels = frame[label_col].astype(str).str.strip()
    has_text = texts.str.strip() != ""
    has_label = ~labels.str.lower().isin(MISSING_LABELS)
    keep = has_text & has_label
    dropped = int((~keep).sum())
    reasons = {
        "empty_text": int((~has_text).sum()),
        "missing_label": int((has_text & ~has_label).sum()),
    }
    texts, labels = texts[keep], labels[keep]
    if texts.empty:
        raise DatasetInvalid(
            f"no usable rows: every row has an empty {text_col!r} or {label_col!r}"
        )

    as_ints = _exact_ints(labels)
    label_kind = "int" if as_ints is not None else "str"
    typed_labels: pd.Series = as_ints if as_ints is not None else labels
    counts = typed_labels.value_counts().sort_index()
    if len(counts) < 2:
        raise DatasetInvalid(
            f"the label column {label_col!r} has only one class ({counts.index[0]!r}); "
            "a classifier needs at least 2"
        )

    if max_classes and len(counts) > max_classes:
        raise DatasetInvalid(
            f"the label column {label_col!r} has {len(counts):,} distinct labels, over "
            f"MAX_CLASSES={max_classes}; is {label_col!r} really the label column? "
            "(pass label_column)"
        )

    positive: Any = None
    if positive_label is not None and positive_label != "":
        positive = _typed_label(positive_label, label_kind)
        if positive not in counts.index:
            raise DatasetInvalid(
                f"positive_label {positive_label!r} is not one of the classes "
                f"{[str(c) for c in counts.index]}"
            )

    table = pd.DataFrame({"text": texts.to_numpy(), "label": typed_labels.to_numpy()})
    return ImportedTable(
        frame=table,
        columns=columns,
        text_column=text_col,
        label_column=label_col,
        label_kind=label_kind,
        classes={str(k): int(v) for k, v in counts.items()},
        dropped_rows=dropped,
        positive_label=positive,
        dropped_reasons=reasons,
        kept=keep,
    )


def _typed_label(value: str, label_kind: str) -> Any:
    value = value.strip()
    if label_kind == "int":
        if not _INT_RE.fullmatch(value):
            raise DatasetInvalid(f"positive_label {value!r} is not one of the integer classes")
        return _exact_int(value)
    return value


def _exact_int(value: str) -> int:
    """`"12"`, `"+12"`, `"12.00"` → 12 without a trip through float (which rounds past 2**53)."""
    whole, _dot, _zeros = value.partition(".")
    return int(whole)


def _exact_ints(labels: pd.Series) -> pd.Series | None:
    """The labels as int64 when every one is an integer that int64 holds exactly, else None.

    A label like 99999999999999999999999 stays a string rather than wrapping around.
    """
    if not labels.str.fullmatch(_INT_RE).all():
        return None
    values = [_exact_int(value) for value in labels]
    if any(not INT64_MIN <= value <= INT64_MAX for value in values):
        return None
    return pd.Series(values, index=labels.index, dtype="int64")
