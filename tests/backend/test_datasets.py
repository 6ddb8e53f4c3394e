"""/api/v1/datasets against the shared backend: formats, encodings, errors, stored files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.backend.api_steps import DATASETS, assert_error, upload, upload_ok
from tests.servers import ServerProcess

DATASET_FIELDS = {
    "id",
    "name",
    "rows",
    "columns",
    "text_column",
    "label_column",
    "classes",
    "dropped_rows",
    "sha256",
    "created_at",
}


def stored_frame(backend: ServerProcess, dataset_id: str) -> pd.DataFrame:
    """The clean `text,label` file the server keeps under DATA_DIR/datasets."""
    path = Path(backend.env["DATA_DIR"]) / "datasets" / f"{dataset_id}.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def test_upload_answers_with_dataset_info(
    client: httpx.Client, small_csv: Path, small_dataset: dict[str, Any]
) -> None:
    source = pd.read_csv(small_csv)
    assert set(small_dataset) >= DATASET_FIELDS
    assert small_dataset["rows"] == len(source)
    assert small_dataset["dropped_rows"] == 0
    assert small_dataset["columns"] == ["text", "label"]
    assert (small_dataset["text_column"], small_dataset["label_column"]) == ("text", "label")
    assert small_dataset["classes"] == {"0": 700, "1": 1300}
    assert small_dataset["sha256"] == hashlib.sha256(small_csv.read_bytes()).hexdigest()
    assert small_dataset["created_at"].endswith("Z")
    assert small_dataset["name"] == "small"


def test_list_get_and_delete(client: httpx.Client, small_csv: Path) -> None:
    created = upload_ok(client, small_csv, name="to be deleted")
    assert created["name"] == "to be deleted"
    for path in (DATASETS, DATASETS + "/"):
        listed = client.get(path)
        assert listed.status_code == 200, path
        assert created["id"] in [d["id"] for d in listed.json()]
    one = client.get(f"{DATASETS}/{created['id']}")
    assert one.status_code == 200
    assert one.json() == created

    deleted = client.delete(f"{DATASETS}/{created['id']}")
    assert deleted.status_code == 200, deleted.text
    assert_error(client.get(f"{DATASETS}/{created['id']}"), 404, created["id"])
    assert created["id"] not in [d["id"] for d in client.get(DATASETS).json()]
    assert_error(client.delete(f"{DATASETS}/{created['id']}"), 404)


def test_post_without_trailing_slash_and_with_it(client: httpx.Client, small_csv: Path) -> None:
    for path in (DATASETS, DATASETS + "/"):
        response = client.post(path, files={"file": ("s.csv", small_csv.read_bytes())})
        assert response.status_code == 201, (path, response.text)


def test_unknown_dataset_is_404(client: httpx.Client) -> None:
    assert_error(client.get(f"{DATASETS}/ds_doesnotexist"), 404, "ds_doesnotexist")
    assert_error(client.get(f"{DATASETS}/..%2F..%2Fetc"), 404)


def test_seed_format_with_unnamed_index_toxic_and_comment_text(
    client: httpx.Client, backend: ServerProcess, seed_format_csv: Path
) -> None:
    assert seed_format_csv.read_text().startswith(",toxic,comment_text\n")
    source = pd.read_csv(seed_format_csv, index_col=0)
    dataset = upload_ok(client, seed_format_csv)
    assert dataset["text_column"] == "comment_text"
    assert dataset["label_column"] == "toxic"
    assert dataset["rows"] == len(source) - dataset["dropped_rows"]
    assert dataset["classes"] == {
        str(k): int(v) for k, v in source["toxic"].value_counts().sort_index().items()
    }
    stored = stored_frame(backend, dataset["id"])
    assert list(stored.columns) == ["text", "label"]
    assert stored["text"].tolist() == source["comment_text"].astype(str).tolist()
    assert stored["label"].tolist() == source["toxic"].astype(str).tolist()


def test_cp1251_russian_file(
    client: httpx.Client, backend: ServerProcess, ru_cp1251_csv: Path
) -> None:
    raw = ru_cp1251_csv.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    source = pd.read_csv(ru_cp1251_csv, encoding="cp1251")
    dataset = upload_ok(client, ru_cp1251_csv)
    assert dataset["rows"] == len(source) == 300
    assert dataset["dropped_rows"] == 0
    assert dataset["classes"] == {"0": 150, "1": 150}
    stored = stored_frame(backend, dataset["id"])
    assert stored["text"].tolist() == source["text"].tolist()  # Cyrillic survived intact
    assert any("а" in text for text in stored["text"])


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(";", "utf-8"), ("\t", "utf-8"), ("|", "utf-8"), (",", "utf-8-sig")],
)
def test_delimiters_and_bom(
    client: httpx.Client, backend: ServerProcess, small_csv: Path, delimiter: str, encoding: str
) -> None:
    source = pd.read_csv(small_csv).head(200)
    content = source.to_csv(index=False, sep=delimiter).encode(encoding)
    dataset = upload_ok(client, content)
    assert dataset["columns"] == ["text", "label"]
    assert dataset["rows"] == 200
    assert stored_frame(backend, dataset["id"])["text"].tolist() == source["text"].tolist()


def test_rows_with_empty_text_or_label_are_dropped_and_counted(client: httpx.Client) -> None:
    content = (
        b"comment,target,extra\n"
        b"you are nice,0,a\n"
        b",1,b\n"  # empty text
        b"   ,0,c\n"  # blank text
        b"no label here,,d\n"
        b"you are awful,1,e\n"
        b"have a good day,0,f\n"
    )
    dataset = upload_ok(client, content)
    assert (dataset["text_column"], dataset["label_column"]) == ("comment", "target")
    assert dataset["rows"] == 3
    assert dataset["dropped_rows"] == 3
    assert dataset["classes"] == {"0": 2, "1": 1}


def test_explicit_columns_and_string_labels(client: httpx.Client) -> None:
    content = (
        "body;verdict\n"
        + "".join(f"text number {i};{'bad' if i % 3 else 'good'}\n" for i in range(30))
    ).encode()
    dataset = upload_ok(
        client, content, text_column="body", label_column="verdict", positive_label="bad"
    )
    assert dataset["classes"] == {"bad": 20, "good": 10}
    assert dataset["positive_label"] == "bad"


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        pytest.param(b"", ("empty",), id="empty-file"),
        pytest.param(b"\x00\x01\x02binary\x00" * 100, ("binary",), id="binary"),
        pytest.param(b"text,label\n", ("no data rows",), id="header-only"),
        pytest.param(b"text,score\nhello,0.5\nbye,0.1\n", ("label column",), id="no-label-col"),
        pytest.param(b"id,label\n1,0\n2,1\n3,0\n", ("text column",), id="no-text-col"),
        pytest.param(b"text,label\nhello,1\nbye,1\nagain,1\n", ("one class",), id="one-class"),
        pytest.param(b"text,label\n,1\n  ,0\n,1\n", ("no usable rows",), id="no-usable-rows"),
        pytest.param(
            b'text,label\n"unterminated,1\nsecond,0\n' + b"x,1\n" * 5, (), id="broken-quotes"
        ),
    ],
)
def test_unusable_files_are_400(
    client: httpx.Client, content: bytes, needles: tuple[str, ...]
) -> None:
    assert_error(upload(client, content), 400, *needles)


def test_named_columns_that_do_not_exist_are_400(client: httpx.Client, small_csv: Path) -> None:
    assert_error(upload(client, small_csv, text_column="body"), 400, "body", "text")
    assert_error(upload(client, small_csv, label_column="verdict"), 400, "verdict")
    assert_error(upload(client, small_csv, positive_label="maybe"), 400, "maybe")


def test_upload_without_file_is_422(client: httpx.Client) -> None:
    response = client.post(DATASETS, data={"name": "no file"})
    assert response.status_code == 422, response.text
