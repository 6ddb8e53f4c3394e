"""A table-driven corpus of bad (and merely odd) CSV uploads, each with its expected answer:
a 4xx whose detail names the problem, or a 201 with the right counts. The server stays
healthy after all of them."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import assert_healthy, upload_csv
from tests.servers import ServerProcess, copy_data_dir, start_backend

MAX_UPLOAD_MB = 3


def _rows(n: int, classes: tuple[object, ...] = (0, 1)) -> list[tuple[str, object]]:
    return [
        (f"comment number {i} says {'bad' if i % 2 else 'good'} things", classes[i % len(classes)])
        for i in range(n)
    ]


def _csv(
    rows: list[tuple[str, object]], header: str = "text,label", sep: str = ",", newline: str = "\n"
) -> str:
    lines = [header.replace(",", sep)] + [f"{text}{sep}{label}" for text, label in rows]
    return newline.join(lines) + newline


def _text(rows: int = 10, **kwargs: object) -> bytes:
    return _csv(_rows(rows), **kwargs).encode()  # type: ignore[arg-type]


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.csv", b"text,label\n" + b"a" * (64 * 1024 * 1024) + b",1\n")
    return buffer.getvalue()


def _gzip_bomb() -> bytes:
    return gzip.compress(b"text,label\n" + b"x,1\n" * (10 * 1024 * 1024), compresslevel=9)


def _cp1251() -> bytes:
    rows = [("Привет, как дела? Всё хорошо", 0), ("Ты ужасный человек, уходи", 1)] * 10
    return ("text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in rows)).encode("cp1251")


def _wide() -> bytes:
    header = ",".join(["text", "label"] + [f"extra_{i}" for i in range(998)])
    row = lambda t, lab: ",".join([t, str(lab)] + ["7"] * 998)  # noqa: E731
    return "\n".join([header] + [row(t, lab) for t, lab in _rows(20)]).encode() + b"\n"


@dataclass
class Upload:
    """One corpus file and the answer it must get."""

    name: str
    content: Callable[[], bytes]
    status: int
    detail: tuple[str, ...] = ()  # words the 4xx detail must contain (case-insensitive)
    rows: int | None = None
    classes: dict[str, int] | None = None
    dropped: int = 0
    form: dict[str, str] = field(default_factory=dict)
    columns: int | None = None


CORPUS: list[Upload] = [
    Upload("empty", lambda: b"", 400, ("empty",)),
    Upload("whitespace only", lambda: b"  \n\n \r\n", 400, ("empty",)),
    Upload("header only", lambda: b"text,label\n", 400, ("no data rows",)),
    Upload(
        "binary garbage", lambda: os.urandom(4096) + b"\x00" + os.urandom(4096), 400, ("binary",)
    ),
    Upload(
        "utf-16 with BOM",
        lambda: _csv(_rows(10)).encode("utf-16"),
        201,
        rows=10,
        classes={"0": 5, "1": 5},
    ),
    Upload("utf-16 without BOM", lambda: _csv(_rows(10)).encode("utf-16-le"), 400, ("binary",)),
    Upload(
        "utf-8 with BOM", lambda: b"\xef\xbb\xbf" + _text(8), 201, rows=8, classes={"0": 4, "1": 4}
    ),
    Upload("cp1251 without declaration", _cp1251, 201, rows=20, classes={"0": 10, "1": 10}),
    Upload(
        "neither utf-8 nor cp1251", lambda: b"text,label\n\x98\x98 bad,1\nok,0\n", 400, ("utf-8",)
    ),
    Upload(
        "semicolon delimiter", lambda: _text(12, sep=";"), 201, rows=12, classes={"0": 6, "1": 6}
    ),
    Upload("tab delimiter", lambda: _text(12, sep="\t"), 201, rows=12, classes={"0": 6, "1": 6}),
    Upload("pipe delimiter", lambda: _text(6, sep="|"), 201, rows=6, classes={"0": 3, "1": 3}),
    Upload(
        "CRLF line ends", lambda: _text(6, newline="\r\n"), 201, rows=6, classes={"0": 3, "1": 3}
    ),
    Upload("missing label column", lambda: _text(10, header="text,score"), 400, ("label column",)),
    Upload(
        "named label column absent",
        lambda: _text(10),
        400,
        ("'verdict'",),
        form={"label_column": "verdict"},
    ),
    Upload("missing text column", lambda: b"id,label\n1,0\n2,1\n3,0\n", 400, ("text column",)),
    Upload("one class", lambda: _csv(_rows(10, classes=(1,))).encode(), 400, ("one class",)),
    Upload(
        "labels all NaN",
        lambda: _csv(_rows(10, classes=("NaN", "", "null"))).encode(),
        400,
        ("no usable rows",),
    ),
    Upload(
        "some labels NaN",
        lambda: _csv(_rows(12, classes=(0, 1, "nan"))).encode(),
        201,
        rows=8,
        classes={"0": 4, "1": 4},
        dropped=4,
    ),
    Upload(
        "empty texts dropped",
        lambda: b"text,label\na,0\n,1\nb,1\n   ,0\n",
        201,
        rows=2,
        classes={"0": 1, "1": 1},
        dropped=2,
    ),
    Upload(
        "quoted newlines",
        lambda: (
            b'text,label\n"line one\nline two",0\n"a ""quoted""\n'
            b'text, with comma",1\n"third\r\nrow",0\n'
        ),
        201,
        rows=3,
        classes={"0": 2, "1": 1},
    ),
    Upload("unterminated quote", lambda: b'text,label\n"never closed,0\nnext,1\n', 400, ("csv",)),
    Upload("ragged rows", lambda: b"text,label\na,0\nb,1,extra,more\nc,0\n", 400, ("csv",)),
    Upload(
        "2 MB single line",
        lambda: b"text,label\n" + b"w" * (2 * 1024 * 1024) + b",1\nshort,0\n",
        201,
        rows=2,
        classes={"0": 1, "1": 1},
    ),
    Upload("2 MB line without newline", lambda: b"t" * (2 * 1024 * 1024), 400, ("header line",)),
    Upload(
        "duplicated header names",
        lambda: b"text,label,label\na,0,1\nb,1,0\n",
        400,
        ("label", "repeat"),
    ),
    Upload("1,000 columns", _wide, 400, ("MAX_CSV_COLUMNS=100",)),
    Upload(
        "string labels",
        lambda: _csv(_rows(9, classes=("spam", "ham", "eggs"))).encode(),
        201,
        rows=9,
        classes={"eggs": 3, "ham": 3, "spam": 3},
    ),
    Upload(
        "float labels",
        lambda: _csv(_rows(4, classes=("1.0", "0.0"))).encode(),
        201,
        rows=4,
        classes={"0": 2, "1": 2},
    ),
    Upload(
        "unknown positive_label",
        lambda: _text(10),
        400,
        ("positive_label",),
        form={"positive_label": "7"},
    ),
    Upload("zip bomb disguised as CSV", _zip_bomb, 400, ("binary",)),
    Upload("gzip bomb disguised as CSV", _gzip_bomb, 400, ("binary",)),
    Upload(
        "formula injection stays text",
        lambda: b"text,label\n\"=cmd|'/c calc'!A0\",1\n+SUM(1),0\n",
        201,
        rows=2,
        classes={"0": 1, "1": 1},
    ),
    Upload(
        "over MAX_UPLOAD_MB",
        lambda: _text(10) + b"x" * (MAX_UPLOAD_MB * 1024 * 1024 + 10),
        413,
        ("MAX_UPLOAD_MB",),
    ),
]


@pytest.fixture(scope="module")
def csv_server(
    seed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("bad-csv") / "data"
    copy_data_dir(seed_data_dir, data_dir)
    server = start_backend(data_dir, MAX_UPLOAD_MB=str(MAX_UPLOAD_MB))
    yield server
    server.stop()


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 20
    assert len({case.name for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_bad_csv_gets_its_answer(csv_server: ServerProcess, case: Upload) -> None:
    before = httpx.get(f"{csv_server.url}/api/v1/datasets", timeout=30).json()
    response = upload_csv(csv_server, case.content(), f"{case.name}.csv", **case.form)
    assert response.status_code == case.status, response.text[:2000]
    body = response.json()
    after = httpx.get(f"{csv_server.url}/api/v1/datasets", timeout=30).json()
    if case.status >= 400:
        detail = body["detail"]
        assert isinstance(detail, str) and "Traceback" not in detail
        for word in case.detail:
            assert word.lower() in detail.lower(), detail
        assert len(after) == len(before), "a refused upload was listed"
        return
    assert body["rows"] == case.rows
    assert body["classes"] == case.classes
    assert body["dropped_rows"] == case.dropped
    if case.columns is not None:
        assert len(body["columns"]) == case.columns
    assert body["id"] in {d["id"] for d in after}


def test_streamed_upload_over_limit_is_refused(csv_server: ServerProcess) -> None:
    """No Content-Length (chunked): the limit holds while the body streams in."""

    def chunks() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
        for _ in range(MAX_UPLOAD_MB + 3):
            yield b"text,label\n" + b"y" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    response = httpx.post(
        f"{csv_server.url}/api/v1/datasets",
        content=chunks(),
        timeout=60,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413, response.text
    assert f"MAX_UPLOAD_MB={MAX_UPLOAD_MB}" in response.json()["detail"]


def test_server_healthy_after_corpus(csv_server: ServerProcess) -> None:
    assert_healthy(csv_server)
    leftovers = list((Path(csv_server.env["DATA_DIR"]) / "uploads").iterdir())
    assert leftovers == [], "upload temp files left behind"
    assert "Traceback" not in csv_server.log() or "unhandled error" not in csv_server.log()
