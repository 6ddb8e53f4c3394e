"""csv_import in process: how a file is read (encoding, delimiter, limits) and what dataset it
makes (columns, dropped rows and why, label types, classes) — the rules upload and preview share."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from backend.errors import DatasetInvalid
from backend.services.csv_import import (
    HEADER_MAX_CHARS,
    ImportedTable,
    choose_columns,
    detect_encoding,
    import_csv,
    read_table,
    scan_table,
    sniff_delimiter,
)


def written(tmp_path: Path, content: bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def raw(**columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=str)


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (codecs.BOM_UTF8 + b"text,label\n", "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "text".encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + "text".encode("utf-16-be"), "utf-16"),
        ("текст,метка\n".encode(), "utf-8"),
        ("текст,метка\n".encode("cp1251"), "cp1251"),
        ("ab\u00e9".encode()[:-1], "utf-8"),  # a character cut at the sniffing window's end
    ],
)
def test_encodings(head: bytes, encoding: str) -> None:
    assert detect_encoding(head) == encoding


@pytest.mark.parametrize(("head", "needle"), [(b"a\x00b", "binary"), (b"\x81\x98", "cp1251")])
def test_unreadable_encodings(head: bytes, needle: str) -> None:
    with pytest.raises(DatasetInvalid, match=needle):
        detect_encoding(head)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(delimiter: str) -> None:
    sample = "\n".join(delimiter.join(row) for row in [["text", "label"], ["a b", "0"], ["c", "1"]])
    assert sniff_delimiter(sample) == delimiter


def test_delimiter_defaults_to_comma() -> None:
    assert sniff_delimiter("") == ","
    assert sniff_delimiter("just text\nmore text\n") == ","


def test_read_table_reports_how_it_read(tmp_path: Path) -> None:
    table = read_table(written(tmp_path, "text;label\nпривет;1\nпока;0\n".encode("cp1251")))
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    assert table.frame.to_numpy().tolist() == [["привет", "1"], ["пока", "0"]]
    # Every value a string, nothing turned into NaN.
    table = read_table(written(tmp_path, b"text,label\nNA,\nnull,1\n"))
    assert table.frame.to_numpy().tolist() == [["NA", ""], ["null", "1"]]


@pytest.mark.parametrize(
    ("content", "limits", "needle"),
    [
        (b"", {}, "empty"),
        (b"a,b,c,d\n1,2,3,4\n", {"max_columns": 3}, "MAX_CSV_COLUMNS=3"),
        (b"text,label\n" + b"x,1\n" * 11, {"max_rows": 10}, "MAX_DATASET_ROWS=10"),
        (b"a" * (HEADER_MAX_CHARS + 5) + b"\n1\n", {"max_columns": 5}, "header line"),
        (b"text,text\nx,1\n", {}, "repeat"),
    ],
)
def test_file_level_refusals(
    tmp_path: Path, content: bytes, limits: dict[str, int], needle: str
) -> None:
    with pytest.raises(DatasetInvalid, match=needle):
        read_table(written(tmp_path, content), **limits)


def imported(tmp_path: Path, content: str, **kwargs: Any) -> ImportedTable:
    return import_csv(written(tmp_path, content.encode()), **kwargs)


def clean_rows(table: ImportedTable) -> list[list[str]]:
    """The clean `text,label` table upload stores, as written."""
    out = io.StringIO()
    table.write_csv(out)
    return list(csv.reader(io.StringIO(out.getvalue())))[1:]


def test_rows_drop_and_say_why(tmp_path: Path) -> None:
    content = "text,label\nkept,1\n,0\n  ,\nno label,\nna label, N/A \nalso kept,0\n,None\n"
    table = imported(tmp_path, content, head=7)
    assert clean_rows(table) == [["kept", "1"], ["also kept", "0"]]
    assert (table.rows, table.dropped_rows) == (2, 5)
    assert table.dropped_reasons == {"empty_text": 3, "missing_label": 2}
    assert table.head_kept == [True, False, False, False, False, True, False]


def test_labels_keep_their_type(tmp_path: Path) -> None:
    ints = imported(tmp_path, "text,label\na,1\nb,+2\nc,2.00\n")
    assert (ints.label_kind, clean_rows(ints)) == ("int", [["a", "1"], ["b", "2"], ["c", "2"]])
    assert ints.classes == {"1": 1, "2": 2}
    huge = "99999999999999999999999"  # past int64: a string, not a wrapped number
    strings = imported(tmp_path, f"text,label\na,{huge}\nb,1\n")
    assert strings.label_kind == "str" and set(strings.classes) == {huge, "1"}


def test_positive_label_is_typed_and_checked(tmp_path: Path) -> None:
    content = "text,label\na,0\nb,1\n"
    assert imported(tmp_path, content, positive_label="1.0").positive_label == 1
    with pytest.raises(DatasetInvalid, match="not one of the classes"):
        imported(tmp_path, content, positive_label="7")


@pytest.mark.parametrize(
    ("content", "kwargs", "needle"),
    [
        ("text,label\na,1\nb,1\n", {}, "only one class"),
        ("text,label\na,1\nb,2\nc,3\n", {"max_classes": 2}, "MAX_CLASSES=2"),
        ("text,label\n,1\n ,0\n", {}, "no usable rows"),
        ("text,label\n", {}, "no data rows"),
    ],
)
def test_dataset_level_refusals(
    tmp_path: Path, content: str, kwargs: dict[str, int], needle: str
) -> None:
    with pytest.raises(DatasetInvalid, match=needle):
        imported(tmp_path, content, **kwargs)


def test_columns_by_name_then_by_content() -> None:
    named = raw(ID=["1"], Comment_Text=["hello"], TOXIC=["0"])
    assert choose_columns(named) == ("Comment_Text", "TOXIC")
    # No text column by name: the first column holding words, not numbers.
    unnamed = raw(id=["1", "2"], body=["some words", "more words"], class_=["0", "1"])
    unnamed = unnamed.rename(columns={"class_": "class"})
    assert choose_columns(unnamed) == ("body", "class")
    with pytest.raises(DatasetInvalid, match="no label column"):
        choose_columns(raw(text=["a"], score=["0.5"]))
    with pytest.raises(DatasetInvalid, match="'verdict' is not in the file"):
        choose_columns(named, label_column="verdict")
    with pytest.raises(DatasetInvalid, match="different columns"):
        choose_columns(named, text_column="TOXIC", label_column="TOXIC")


def test_preview_scan_agrees_with_the_whole_read(tmp_path: Path) -> None:
    path = written(tmp_path, b",toxic,comment_text\n0,1,you idiot\n1,0,thanks\n2,0,\n")
    whole, scanned = read_table(path), scan_table(path, head=2)
    assert scanned.rows == whole.rows == 3
    assert scanned.frame.equals(whole.frame.head(2))
    table = import_csv(path, head=3)
    assert (table.text_column, table.label_column) == ("comment_text", "toxic")
    assert table.head_kept == [True, True, False]
    assert table.dropped_reasons == {"empty_text": 1, "missing_label": 0}


def test_the_clean_table_is_the_same_in_small_chunks(tmp_path: Path) -> None:
    rows = "".join(f"text {i},{i % 3}\n" for i in range(100))
    table = imported(tmp_path, "text,label\n" + rows)
    small = dataclasses.replace(table, form=dataclasses.replace(table.form, chunk_rows=16))
    assert clean_rows(small) == clean_rows(table) and len(clean_rows(table)) == 100
