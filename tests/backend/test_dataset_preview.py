"""POST /api/v1/datasets/preview: what upload would store, read by the same code, nothing kept.

On both databases: the preview's columns, counts and classes equal what the upload of the same
bytes then stores; a file upload refuses is refused alike (4xx, same detail); roles and limits
are upload's.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.backend.api_steps import DATASETS, assert_error, upload, upload_ok
from tests.databases import fresh_postgres_database
from tests.mlops.conftest import TOKENS, role_client, start_auth_server
from tests.servers import ServerProcess, start_backend

PREVIEW = f"{DATASETS}/preview"


def preview(
    client: httpx.Client, source: Path | bytes, filename: str = "data.csv", **form: Any
) -> httpx.Response:
    payload = source.read_bytes() if isinstance(source, Path) else source
    fields = {key: str(value) for key, value in form.items()}
    return client.post(PREVIEW, files={"file": (filename, payload, "text/csv")}, data=fields)


def preview_ok(client: httpx.Client, source: Path | bytes, **form: Any) -> dict[str, Any]:
    response = preview(client, source, **form)
    assert response.status_code == 200, response.text
    return dict(response.json())


def stored_texts(backend: ServerProcess, dataset_id: str) -> list[str]:
    path = Path(backend.env["DATA_DIR"]) / "datasets" / f"{dataset_id}.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False)["text"].tolist()


MESSY = (
    b"comment;target;extra\n"
    b"you are nice;0;a\n"
    b";1;b\n"  # empty text
    b"   ;0;c\n"  # blank text
    b"no label here;;d\n"  # missing label
    b"label says NA;NA;e\n"  # missing label, spelled out
    b"you are awful;1;f\n"
    b"have a good day;0;g\n"
)
CYRILLIC = "text,label\nпривет мир,0\nты дурак,1\nхорошего дня,0\n"
FILES = {
    "messy-semicolon": (MESSY, {}),
    "cp1251": (CYRILLIC.encode("cp1251"), {}),
    "utf16-bom-tab": (codecs.BOM_UTF16_LE + CYRILLIC.replace(",", "\t").encode("utf-16-le"), {}),
    "seed-format": (b",toxic,comment_text\n0,1,you idiot\n1,0,thanks a lot\n2,0,\n", {}),
    "string-labels": (
        b"body|verdict\n"
        + b"".join(b"text %d|%s\n" % (i, b"bad" if i % 3 else b"good") for i in range(30)),
        {"text_column": "body", "label_column": "verdict", "positive_label": "bad"},
    ),
}


@pytest.mark.parametrize("name", list(FILES))
def test_preview_is_what_upload_then_stores(
    client: httpx.Client, backend: ServerProcess, name: str
) -> None:
    content, form = FILES[name]
    before = len(client.get(DATASETS).json())
    seen = preview_ok(client, content, head=1000, **form)
    assert seen["error"] is None
    assert len(client.get(DATASETS).json()) == before, "a preview must store nothing"

    stored = upload_ok(client, content, **form)
    for field in ("columns", "text_column", "label_column", "classes", "positive_label"):
        assert seen[field] == stored[field], field
    assert (seen["rows_kept"], seen["dropped_rows"]) == (stored["rows"], stored["dropped_rows"])
    assert sum(seen["dropped"].values()) == seen["dropped_rows"]
    assert seen["rows"] == seen["rows_kept"] + seen["dropped_rows"]
    # The head is the file as the server read it; its kept rows are the stored rows.
    text_index = seen["columns"].index(seen["text_column"])
    kept = [
        row[text_index] for row, keep in zip(seen["head"], seen["head_kept"], strict=True) if keep
    ]
    assert kept == stored_texts(backend, stored["id"])


def test_reports_how_the_file_was_read_and_why_rows_drop(client: httpx.Client) -> None:
    seen = preview_ok(client, MESSY, head=3)
    assert (seen["encoding"], seen["delimiter"]) == ("utf-8", ";")
    assert seen["columns"] == ["comment", "target", "extra"]
    assert seen["head"] == [["you are nice", "0", "a"], ["", "1", "b"], ["   ", "0", "c"]]
    assert seen["head_kept"] == [True, False, False]
    assert seen["dropped"] == {"empty_text": 2, "missing_label": 2}
    assert seen["label_kind"] == "int" and seen["classes"] == {"0": 2, "1": 1}
    assert preview_ok(client, CYRILLIC.encode("cp1251"))["encoding"] == "cp1251"


def test_a_dataset_upload_refuses_is_named_in_error_with_the_file_still_shown(
    client: httpx.Client,
) -> None:
    one_class = b"text,verdict,label\nhello,0,1\nbye,1,1\nagain,0,1\n"
    refused = assert_error(upload(client, one_class), 400, "one class")
    seen = preview_ok(client, one_class)
    assert seen["error"] == refused
    assert seen["columns"] == ["text", "verdict", "label"] and len(seen["head"]) == 3
    assert (seen["text_column"], seen["label_column"]) == ("text", "label")
    assert seen["classes"] is None and seen["head_kept"] == []
    # Choosing another label column, as the Data page lets the analyst do, fixes it.
    fixed = preview_ok(client, one_class, label_column="verdict")
    assert fixed["error"] is None and fixed["classes"] == {"0": 2, "1": 1}

    bad_names = preview_ok(client, one_class, label_column="verdict", label_names='{"7": "x"}')
    refused = assert_error(
        upload(client, one_class, label_column="verdict", label_names='{"7": "x"}'), 400
    )
    assert bad_names["error"] == refused


@pytest.mark.parametrize(
    ("content", "form", "needles"),
    [
        pytest.param(b"", {}, ("empty",), id="empty-file"),
        pytest.param(b"\x00\x01\x02binary\x00" * 100, {}, ("binary",), id="binary"),
        pytest.param(b"text,label\n\x81\x98,1\nok,0\n", {}, ("cp1251",), id="bad-encoding"),
        pytest.param(b"a,a\nx,1\ny,0\n", {}, ("repeat",), id="repeated-names"),
        pytest.param(b"text,label\nhi,1\n", {"text_column": "x\x00"}, ("NUL",), id="nul-field"),
    ],
)
def test_unreadable_files_are_refused_like_upload(
    client: httpx.Client, content: bytes, form: dict[str, str], needles: tuple[str, ...]
) -> None:
    refused = assert_error(upload(client, content, **form), 400, *needles)
    assert assert_error(preview(client, content, **form), 400) == refused


def test_bad_form_fields_are_422(client: httpx.Client) -> None:
    for head in (-1, 1001):  # at most PREVIEW_MAX_ROWS rows come back
        assert preview(client, b"text,label\nhi,1\nbye,0\n", head=head).status_code == 422
    assert client.post(PREVIEW, data={"head": "5"}).status_code == 422  # no file


# A server with small limits, once per database.
LIMITS = {"MAX_UPLOAD_MB": "1", "MAX_CSV_COLUMNS": "5", "MAX_DATASET_ROWS": "50"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    env = dict(LIMITS, DEFAULT_MODELS="false")
    if request.param == "postgresql":
        env["DATABASE_URL"] = fresh_postgres_database()
    server = start_backend(tmp_path_factory.mktemp(f"preview-{request.param}"), **env)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http
    server.stop()


@pytest.mark.parametrize(
    ("content", "status", "needles"),
    [
        pytest.param(
            b"text,label\n" + b"x" * (1024 * 1024 + 10) + b",1\n",
            413,
            ("MAX_UPLOAD_MB",),
            id="too-big",
        ),
        pytest.param(
            b"a,b,c,d,e,f,text,label\n1,2,3,4,5,6,hi,1\n", 400, ("MAX_CSV_COLUMNS",), id="columns"
        ),
        pytest.param(
            b"text,label\n" + b"hi,1\nbye,0\n" * 30, 400, ("MAX_DATASET_ROWS",), id="rows"
        ),
    ],
)
def test_limits_are_upload_limits(
    limited: httpx.Client, content: bytes, status: int, needles: tuple[str, ...]
) -> None:
    refused = assert_error(upload(limited, content), status, *needles)
    assert assert_error(preview(limited, content), status, *needles) == refused
    assert limited.get(DATASETS).json() == []


def test_roles_are_uploads(tmp_path: Path) -> None:
    """Editor like upload: anonymous 401, viewer 403 (before the body is read), editor 200."""
    server = start_auth_server(tmp_path / "auth")
    content = b"text,label\nhi,1\nbye,0\n"
    try:
        with role_client(server, None) as anonymous:
            assert_error(preview(anonymous, content), 401)
        with role_client(server, "viewer") as viewer:
            assert_error(preview(viewer, content), 403, "editor")
        for role in ("editor", "admin"):
            with role_client(server, role) as allowed:
                assert preview_ok(allowed, content)["rows_kept"] == 2
        assert TOKENS["viewer"] not in (Path(server.env["LOG_DIR"]) / "backend.log").read_text()
    finally:
        server.stop()
