"""CSV reading and column guessing, as the backend does it."""

from __future__ import annotations

import pytest

from frontend.tables import (
    UnreadableCsv,
    guess_label_column,
    guess_text_column,
    labelled_texts,
    read_csv_bytes,
)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(delimiter: str) -> None:
    content = f"comment{delimiter}toxic\nhello there{delimiter}0\nyou idiot{delimiter}1\n".encode()
    frame = read_csv_bytes(content)
    assert list(frame.columns) == ["comment", "toxic"]
    assert guess_text_column(frame) == "comment"
    assert guess_label_column(frame, "comment") == "toxic"


def test_cp1251_and_bom() -> None:
    cp1251 = "text,label\nпривет мир,0\nты дурак,1\n".encode("cp1251")
    assert read_csv_bytes(cp1251)["text"][0] == "привет мир"
    bom = "\ufefftext,label\nhi,0\n".encode()
    assert list(read_csv_bytes(bom).columns) == ["text", "label"]


def test_utf16_with_bom_reads_as_the_backend_reads_it() -> None:
    # The backend's import takes UTF-16 with a BOM; the pages read files with the same module.
    frame = read_csv_bytes("text;label\nпривет мир;0\nты дурак;1\n".encode("utf-16"))
    assert frame["text"].tolist() == ["привет мир", "ты дурак"]


def test_binary_bytes_are_refused_with_the_backends_reason() -> None:
    with pytest.raises(UnreadableCsv, match="NUL bytes"):
        read_csv_bytes(b"text,label\n\x00\x01,1\n")


def test_guess_without_conventional_names() -> None:
    frame = read_csv_bytes(b"id,body,y\n1,a long piece of text,0\n2,another long text,1\n")
    assert guess_text_column(frame) == "body"
    assert guess_label_column(frame, "body") in {"y", "id"}


def test_unreadable() -> None:
    with pytest.raises(UnreadableCsv, match="empty"):
        read_csv_bytes(b"  ")
    with pytest.raises(UnreadableCsv, match="two columns"):
        read_csv_bytes(b"just\none\ncolumn\n")


def test_labelled_texts_drops_empty_rows() -> None:
    frame = read_csv_bytes(b"text,label\nhello,0\n,1\n   ,1\nbye,\nok,1\n")
    pairs = labelled_texts(frame, "text", "label")
    assert pairs["text"].tolist() == ["hello", "ok"]
