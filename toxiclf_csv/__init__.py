"""How this project reads a CSV of texts: encodings, delimiters and the column names it knows.

One module for the backend's import (`backend/services/csv_import.py`, which also types labels,
counts dropped rows and enforces the limits) and the web app's EDA and Predict pages, which read
a dropped file locally. Pure standard library, so both images copy it as it is.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable

TEXT_COLUMN_NAMES = ("text", "comment_text", "comment")
LABEL_COLUMN_NAMES = ("label", "toxic", "class", "target")
DELIMITERS = ",;\t|"
# Label cells that mean "no label": such rows are dropped, not learnt from.
MISSING_LABELS = frozenset({"", "nan", "na", "n/a", "null", "none"})
# The head that encoding and delimiter are judged from.
SNIFF_BYTES = 64 * 1024


class CsvFormatError(ValueError):
    """The bytes are not CSV text this project reads; the message says what to do."""


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1251, judged from the file's head."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise CsvFormatError(
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
        raise CsvFormatError(
            "the file is neither UTF-8 nor cp1251 text; re-save it as UTF-8 CSV"
        ) from None


def sniff_delimiter(sample: str) -> str:
    """One of , ; tab | judged from the first non-empty lines; comma when unsure."""
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def named_column(columns: Iterable[str], names: tuple[str, ...]) -> str | None:
    """The first column whose name, trimmed and lower-cased, is one of `names` (in their order)."""
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None
