"""Turn an uploaded CSV file into a clean `text,label` table, or say exactly what is wrong.

How a CSV is read (encodings, delimiters, the column names looked for) is `toxiclf_csv`, shared
with the web app; here: reading in chunks under the limits, column defaults, label typing and
dropped-row counting.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd

import toxiclf_csv
from backend.errors import DatasetInvalid
from toxiclf_csv import (
    LABEL_COLUMN_NAMES,
    MISSING_LABELS,
    SNIFF_BYTES,
    TEXT_COLUMN_NAMES,
    named_column,
    sniff_delimiter,
)

_INT_RE = re.compile(r"^[+-]?\d+(\.0+)?$")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_COLUMN_NAME_CHARS = 255
# A header longer than this is refused before parsing (100 columns of 10,000 characters).
HEADER_MAX_CHARS = 1 << 20


@dataclass
class ImportedTable:
    """A checked upload: what it holds, and how to write its clean `text,label` table."""

    path: Path
    form: CsvFormat
    encoding: str
    rows: int  # usable rows, the ones the clean table holds
    columns: list[str]
    text_column: str
    label_column: str
    label_kind: str  # "int" | "str"
    classes: dict[str, int]
    dropped_rows: int
    positive_label: Any
    label_types: dict[str, int] | None  # stripped label → its int, for label_kind "int"
    # Why rows were dropped: {"empty_text": n, "missing_label": n}; a row with neither a text
    # nor a label counts as empty_text, so the counts add up to dropped_rows.
    dropped_reasons: dict[str, int]
    head_kept: list[bool]  # per row of the file's first `head` rows: whether it is kept

    def write_csv(self, handle: IO[str]) -> None:
        """Write the clean table (`text,label`, labels in their final type) chunk by chunk."""
        for number, chunk in enumerate(read_chunks(self.path, self.form, self.encoding)):
            texts, labels, _has_text, _has_label = _usable(
                chunk, self.text_column, self.label_column
            )
            typed: pd.Series = (
                labels.map(self.label_types).astype("int64")
                if self.label_types is not None
                else labels
            )
            table = pd.DataFrame({"text": texts.to_numpy(), "label": typed.to_numpy()})
            table.to_csv(handle, index=False, header=number == 0)


def detect_encoding(head: bytes) -> str:
    try:
        return toxiclf_csv.detect_encoding(head)
    except toxiclf_csv.CsvFormatError as exc:
        raise DatasetInvalid(str(exc)) from None


def _pick_column(
    columns: list[str], requested: str | None, names: tuple[str, ...], what: str
) -> str | None:
    if requested is not None:
        if requested not in columns:
            raise DatasetInvalid(
                f"{what} column {requested!r} is not in the file; its columns are {columns}"
            )
        return requested
    return named_column(columns, names)


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


# Rows are parsed in chunks of about this many bytes of the file, so an upload's peak memory
# is a few chunks, not a multiple of the file: a 200 MB file of long rows parsed whole grew
# the web process by about three times its size.
CHUNK_BYTES = 8 << 20
CHUNK_ROWS_RANGE = (16, 200_000)
# Rows of the first chunk a guess of the text column looks at.
GUESS_ROWS = 500


@dataclass(frozen=True)
class CsvFormat:
    """How to read a file: its delimiter, the encodings to try and the rows per chunk."""

    delimiter: str
    encodings: tuple[str, ...]
    sample: str
    chunk_rows: int


def sniff_format(path: Path, max_columns: int = 0, max_rows: int = 0) -> CsvFormat:
    """The file's encoding and delimiter, after the checks made before any parsing:
    `max_columns` (MAX_CSV_COLUMNS) on the header line, `max_rows` (MAX_DATASET_ROWS) on
    the line count; 0 = no limit."""
    lines = count_lines(path)
    if max_rows and lines - 1 > max_rows:
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
    # Rows per chunk from the mean row size (a line count over-counts quoted line breaks,
    # which only makes chunks smaller).
    mean_row = max(1, path.stat().st_size // max(1, lines))
    low, high = CHUNK_ROWS_RANGE
    chunk_rows = min(high, max(low, CHUNK_BYTES // mean_row))
    encodings = (encoding, "cp1251") if encoding == "utf-8" else (encoding,)
    return CsvFormat(delimiter, encodings, sample, chunk_rows)


def read_chunks(path: Path, form: CsvFormat, encoding: str) -> Iterator[pd.DataFrame]:
    """The file's rows in chunks, every column as strings; a header-only file gives one
    empty chunk. Parse errors become DatasetInvalid; UnicodeDecodeError is the caller's."""
    try:
        reader = pd.read_csv(
            path,
            sep=form.delimiter,
            encoding=encoding,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            chunksize=form.chunk_rows,
        )
        with reader:
            first = True
            for chunk in reader:
                if first:
                    _refuse_repeated_names(form.sample, form.delimiter)
                    first = False
                chunk.columns = [str(c) for c in chunk.columns]
                yield chunk
    except pd.errors.EmptyDataError:
        raise DatasetInvalid(
            "the file has no header row; the first line must name the columns"
        ) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DatasetInvalid(f"the file is not a readable CSV: {_last_line(exc)}") from None
    except ValueError as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise
        raise DatasetInvalid(f"the file is not a readable CSV: {_last_line(exc)}") from None


def _last_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ""


@dataclass
class RawTable:
    """A CSV file as read: its first rows (every column as strings), how it was read, and
    how many rows it has."""

    frame: pd.DataFrame  # the first rows asked for (read_table: all of them)
    encoding: str
    delimiter: str
    rows: int
    sample: pd.DataFrame  # what the column guess looks at: the first chunk's first rows


def scan_table(path: Path, max_columns: int = 0, max_rows: int = 0, head: int = 20) -> RawTable:
    """The file's first `head` rows and its row count, read in chunks (a preview)."""
    form = sniff_format(path, max_columns, max_rows)
    for attempt in form.encodings:
        try:
            return _scan(path, form, attempt, head)
        except UnicodeDecodeError:
            continue
    raise DatasetInvalid("the file is neither UTF-8 nor cp1251 text; re-save it as UTF-8 CSV")


def read_table(path: Path, max_columns: int = 0, max_rows: int = 0) -> RawTable:
    """The whole file, every column as strings (the CLI's `predict`; uploads and previews
    are read in chunks)."""
    form = sniff_format(path, max_columns, max_rows)
    for attempt in form.encodings:
        try:
            frame = pd.concat(list(read_chunks(path, form, attempt)), ignore_index=True)
        except UnicodeDecodeError:
            continue
        return RawTable(frame, attempt, form.delimiter, len(frame), frame.head(GUESS_ROWS))
    raise DatasetInvalid("the file is neither UTF-8 nor cp1251 text; re-save it as UTF-8 CSV")


def _scan(path: Path, form: CsvFormat, encoding: str, head: int) -> RawTable:
    parts: list[pd.DataFrame] = []
    sample: pd.DataFrame | None = None
    rows = taken = 0
    for chunk in read_chunks(path, form, encoding):
        if sample is None:
            sample = chunk.head(GUESS_ROWS)
        if taken < head:
            parts.append(chunk.head(head - taken))
            taken += len(parts[-1])
        rows += len(chunk)
    assert sample is not None  # read_chunks gives at least one chunk
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return RawTable(frame, encoding, form.delimiter, rows, sample)


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


@dataclass
class _Tally:
    """What the first pass over the chunks learns: columns, counts, whether labels are ints."""

    columns: list[str]
    text_column: str
    label_column: str
    counts: Counter[str]  # stripped label → rows
    kept: int = 0
    empty_text: int = 0
    missing_label: int = 0
    head_kept: list[bool] = field(default_factory=list)
    all_ints: bool = True
    too_many_labels: bool = False  # distinct labels past MAX_DISTINCT_COUNTED: counting stopped


# Distinct labels counted exactly; past this the count stops (a label column of a million
# distinct long values would otherwise be held whole just to be refused).
MAX_DISTINCT_COUNTED = 100_000


def choose_columns(
    frame: pd.DataFrame, text_column: str | None = None, label_column: str | None = None
) -> tuple[str, str]:
    """The text and label columns: the ones asked for, else found by name (the text column
    also as the first column of text in `frame`, the file's first chunk); DatasetInvalid says
    what to pass when none is found."""
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


def _usable(
    chunk: pd.DataFrame, text_col: str, label_col: str
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """The chunk's texts and stripped labels of the rows that have both, and per row of the
    chunk whether it has a text and whether it has a label."""
    texts = chunk[text_col].astype(str)
    labels = chunk[label_col].astype(str).str.strip()
    has_text = texts.str.strip() != ""
    has_label = ~labels.str.lower().isin(MISSING_LABELS)
    keep = has_text & has_label
    return texts[keep], labels[keep], has_text, has_label


def _tally(
    path: Path,
    form: CsvFormat,
    encoding: str,
    text_column: str | None,
    label_column: str | None,
    head: int,
) -> _Tally:
    tally: _Tally | None = None
    for chunk in read_chunks(path, form, encoding):
        if tally is None:
            text_col, label_col = choose_columns(chunk.head(GUESS_ROWS), text_column, label_column)
            tally = _Tally(list(chunk.columns), text_col, label_col, Counter())
        texts, labels, has_text, has_label = _usable(chunk, tally.text_column, tally.label_column)
        tally.empty_text += int((~has_text).sum())
        tally.missing_label += int((has_text & ~has_label).sum())
        tally.kept += len(texts)
        if len(tally.head_kept) < head:
            keep = (has_text & has_label).head(head - len(tally.head_kept))
            tally.head_kept += [bool(k) for k in keep]
        if tally.all_ints and len(labels):
            tally.all_ints = bool(labels.str.fullmatch(_INT_RE).all())
        if not tally.too_many_labels:
            tally.counts.update(labels.value_counts().to_dict())
            tally.too_many_labels = len(tally.counts) > MAX_DISTINCT_COUNTED
    assert tally is not None  # read_chunks gives at least one chunk
    return tally


def import_csv(
    path: Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    positive_label: str | None = None,
    max_columns: int = 0,
    max_classes: int = 0,
    max_rows: int = 0,
    head: int = 0,
) -> ImportedTable:
    """Read, check and type an uploaded CSV in chunks; `max_columns`/`max_classes`/`max_rows`
    are MAX_CSV_COLUMNS/MAX_CLASSES/MAX_DATASET_ROWS (0 = no limit). The clean table is
    written later, again chunk by chunk, by `ImportedTable.write_csv`. Upload and preview
    both come here, so a preview's counts are the upload's; `head`: how many of the file's
    first rows `head_kept` covers."""
    form = sniff_format(path, max_columns, max_rows)
    for attempt in form.encodings:
        try:
            tally = _tally(path, form, attempt, text_column, label_column, head)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DatasetInvalid("the file is neither UTF-8 nor cp1251 text; re-save it as UTF-8 CSV")
    label_col = tally.label_column
    if tally.kept == 0:
        raise DatasetInvalid(
            f"no usable rows: every row has an empty {tally.text_column!r} or {label_col!r}"
        )
    if tally.too_many_labels:
        raise DatasetInvalid(
            f"the label column {label_col!r} has over {MAX_DISTINCT_COUNTED:,} distinct labels"
            f"{f', over MAX_CLASSES={max_classes}' if max_classes else ''}; is {label_col!r} "
            "really the label column? (pass label_column)"
        )

    typed = _typed_labels(list(tally.counts), tally.all_ints)
    label_kind = "int" if typed is not None else "str"
    counts: Counter[Any] = Counter()
    for raw, n in tally.counts.items():
        counts[typed[raw] if typed is not None else raw] += n
    if len(counts) < 2:
        raise DatasetInvalid(
            f"the label column {label_col!r} has only one class ({next(iter(counts))!r}); "
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
        if positive not in counts:
            raise DatasetInvalid(
                f"positive_label {positive_label!r} is not one of the classes "
                f"{[str(c) for c in sorted(counts)]}"
            )

    return ImportedTable(
        path=path,
        form=form,
        encoding=attempt,
        rows=tally.kept,
        columns=tally.columns,
        text_column=tally.text_column,
        label_column=label_col,
        label_kind=label_kind,
        classes={str(k): int(counts[k]) for k in sorted(counts)},
        dropped_rows=tally.empty_text + tally.missing_label,
        positive_label=positive,
        label_types=typed,
        dropped_reasons={"empty_text": tally.empty_text, "missing_label": tally.missing_label},
        head_kept=tally.head_kept,
    )


def _typed_labels(labels: list[str], all_match: bool) -> dict[str, int] | None:
    """Each distinct label as its int64 when every one is an integer that int64 holds exactly,
    else None: a label like 99999999999999999999999 stays a string rather than wrapping."""
    if not all_match:
        return None
    values = {label: _exact_int(label) for label in labels}
    if any(not INT64_MIN <= value <= INT64_MAX for value in values.values()):
        return None
    return values


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
