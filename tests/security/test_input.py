"""Hostile input over HTTP: auth before the body, NUL characters, huge integer labels, grid
values as strings. Every case runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.backend.api_steps import wait_task
from tests.mlops.conftest import TOKENS, role_client
from tests.security.conftest import csv_bytes
from tests.servers import ServerProcess

BIG_BODY = 60 * 1024 * 1024


def send_head_only(server: ServerProcess, method: str, path: str, token: str | None) -> bytes:
    """Announce a 60 MB JSON body, send 1 KB of it, and read what the server answers.

    A server that checks the token first answers at once; one that reads the body first
    waits for the other 60 MB and never answers within the timeout.
    """
    url = urlsplit(server.url)
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: {url.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {BIG_BODY}",
    ]
    if token:
        head.append(f"Authorization: Bearer {token}")
    with socket.create_connection((url.hostname, url.port), timeout=20) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b'{"texts": ["' + b"a" * 1024)
        try:
            return sock.recv(65536)
        except TimeoutError:
            return b""


@pytest.mark.parametrize(
    ("method", "path", "role", "status"),
    [
        ("POST", "/api/v1/models/fit", None, 401),
        ("POST", "/api/v1/models/predict", None, 401),
        ("POST", "/api/v1/models/evaluate", None, 401),
        ("POST", "/api/v1/datasets", None, 401),
        ("POST", "/api/v1/models/remove_all", "viewer", 403),
        ("POST", "/api/v1/models/upload", "editor", 403),
    ],
)
def test_token_is_checked_before_the_body_is_read(
    sec_server: ServerProcess, method: str, path: str, role: str | None, status: int
) -> None:
    answer = send_head_only(sec_server, method, path, TOKENS[role] if role else None)
    assert answer.startswith(f"HTTP/1.1 {status}".encode()), (
        f"no {status} before the body was sent: {answer[:200]!r}"
    )
    unknown = send_head_only(sec_server, method, path, "not-a-known-token-000000")
    assert unknown.startswith(b"HTTP/1.1 401"), unknown[:200]


def test_anonymous_422_does_not_echo_input(sec_server: ServerProcess) -> None:
    marker = "ECHO-MARKER-4242"
    with role_client(sec_server, None) as anonymous:
        response = anonymous.post("/api/v1/models/fit", json={"name": [marker], "x": marker})
    assert response.status_code == 401
    assert marker not in response.text


def nul_requests(dataset_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    body = {"texts": ["hello"]}
    return [
        ("GET", "/api/v1/models/mdl%00x", {}),
        ("GET", "/api/v1/datasets/ds%00x", {}),
        ("GET", "/api/v1/tasks/task%00x", {}),
        ("DELETE", "/api/v1/models/mdl%00x", {}),
        ("GET", "/api/v1/predictions?model_id=a%00b", {}),
        ("GET", "/api/v1/predictions/?model_id=a%00b&limit=5", {}),
        ("POST", "/api/v1/models/predict", {"json": {"model_id": "a\x00b", **body}}),
        ("POST", "/api/v1/models/predict", {"json": {"model_id": "a\x00b@production", **body}}),
        (
            "POST",
            "/api/v1/models/predict_scores",
            {"json": {"model_id": "x\x00@production", **body}},
        ),
        ("POST", "/api/v1/models/load", {"json": {"model_id": "mdl_\x00"}}),
        ("POST", "/api/v1/models/evaluate", {"json": {"model_id": "m", "dataset_id": "d\x00"}}),
        ("POST", "/api/v1/models/fit", {"json": {"name": "n", "dataset_id": "ds_\x00"}}),
        ("POST", "/api/v1/models/retrain", {"json": {"name": "n", "dataset_id": "ds_\x00"}}),
        ("POST", "/api/v1/models/mdl%00/promote", {"json": {"alias": "production"}}),
        (
            "POST",
            "/api/v1/datasets",
            {
                "files": {"file": ("d.csv", csv_bytes([("a", "0"), ("b", "1")]), "text/csv")},
                "data": {"name": "evil\x00name"},
            },
        ),
        (
            "POST",
            "/api/v1/datasets",
            {
                "files": {"file": ("d.csv", csv_bytes([("a", "0"), ("b", "1")]), "text/csv")},
                "data": {"label_column": "label\x00"},
            },
        ),
        ("GET", f"/api/v1/datasets/{dataset_id}?x=%00", {}),
    ]


def test_nul_characters_are_refused(sec_server: ServerProcess) -> None:
    with role_client(sec_server, "admin") as admin:
        dataset = admin.post(
            "/api/v1/datasets",
            files={"file": ("d.csv", csv_bytes([("a b", "0"), ("c d", "1")] * 3), "text/csv")},
        )
        assert dataset.status_code == 201, dataset.text
        wrong = []
        for method, path, options in nul_requests(dataset.json()["id"]):
            response = admin.request(method, path, **options)
            if response.status_code not in (400, 422):
                wrong.append(f"{method} {path!r}: {response.status_code} {response.text[:200]}")
            elif response.status_code == 400:
                assert "NUL" in response.json()["detail"], response.text
        assert admin.get("/api/v1/models/").status_code == 200  # still serving
    assert not wrong, "\n".join(wrong)


def test_huge_integer_label_is_not_wrapped(sec_server: ServerProcess) -> None:
    huge = "99999999999999999999999"
    rows = [(f"text {i}", huge if i % 2 else "1") for i in range(10)]
    with role_client(sec_server, "editor") as editor:
        response = editor.post(
            "/api/v1/datasets", files={"file": ("big.csv", csv_bytes(rows), "text/csv")}
        )
        assert response.status_code in (201, 400), response.text
        if response.status_code == 400:
            return
        info = response.json()
        assert set(info["classes"]) == {huge, "1"}
        assert "-9223372036854775808" not in response.text
        stored = editor.get(f"/api/v1/datasets/{info['id']}/download")
    assert huge in stored.text and "-9223372036854775808" not in stored.text


def test_integer_labels_keep_their_exact_value(sec_server: ServerProcess) -> None:
    # 2**53 + 1 is where a trip through float starts to round.
    exact = "9007199254740993"
    rows = [(f"text {i}", exact if i % 2 else "3") for i in range(10)]
    with role_client(sec_server, "editor") as editor:
        response = editor.post(
            "/api/v1/datasets", files={"file": ("exact.csv", csv_bytes(rows), "text/csv")}
        )
    assert response.status_code == 201, response.text
    assert set(response.json()["classes"]) == {exact, "3"}


def test_grid_values_given_as_strings_are_used_as_numbers(
    sec_server: ServerProcess, small_rows: list[tuple[str, str]]
) -> None:
    with role_client(sec_server, "editor") as editor:
        dataset = editor.post(
            "/api/v1/datasets", files={"file": ("g.csv", csv_bytes(small_rows), "text/csv")}
        )
        assert dataset.status_code == 201, dataset.text
        response = editor.post(
            "/api/v1/models/fit",
            json={
                "name": "grid-strings",
                "dataset_id": dataset.json()["id"],
                "model_type": "logreg",
                "search": {
                    "param_grid": {"C": ["1", "2"], "class_weight": [None, "balanced"]},
                    "cv": 2,
                },
            },
        )
        assert response.status_code in (202, 422), response.text
        if response.status_code == 422:
            return
        task = wait_task(editor, response.json()["task_id"], timeout=300)
        assert task["status"] == "succeeded", task
        model = editor.get(f"/api/v1/models/{response.json()['model_id']}").json()
    assert model["params"]["C"] in (1.0, 2.0) and not isinstance(model["params"]["C"], str)


def test_unknown_token_with_junk_header(sec_server: ServerProcess) -> None:
    response = httpx.get(
        f"{sec_server.url}/api/v1/whoami",
        timeout=30,
        headers={"Authorization": "Bearer \u00e9\u00e9".encode("latin-1")},
    )
    assert response.status_code == 401


OPEN_ROUTES = {"/health", "/ready", "/metrics"}


def test_every_protected_route_refuses_before_reading(sec_server: ServerProcess) -> None:
    """Whatever routes are added later: no token → 401 while the body is still on its way."""
    schema = httpx.get(f"{sec_server.url}/openapi.json", timeout=30).json()
    late = []
    for path, operations in schema["paths"].items():
        if path in OPEN_ROUTES:
            continue
        for method in operations:
            if method not in ("post", "put", "patch", "delete"):
                continue
            concrete = path.replace("{", "x").replace("}", "")
            answer = send_head_only(sec_server, method.upper(), concrete, None)
            if not answer.startswith(b"HTTP/1.1 401"):
                late.append(f"{method.upper()} {path}: {answer[:60]!r}")
    assert not late, late


def test_values_the_database_cannot_hold_are_refused_alike(sec_server: ServerProcess) -> None:
    """Out of range or over-long values: the same 4xx on SQLite and PostgreSQL, never a 201
    on one and a 500 on the other."""
    long_name = "t" * 300
    payload = f"{long_name},label\n" + "".join(f"text {i},{i % 2}\n" for i in range(10))
    with role_client(sec_server, "editor") as editor:
        wide = editor.post(
            "/api/v1/datasets",
            data={"text_column": long_name},
            files={"file": ("w.csv", payload.encode(), "text/csv")},
        )
        assert wide.status_code == 400, wide.text
        positive = editor.post(
            "/api/v1/datasets",
            data={"positive_label": "p" * 300},
            files={"file": ("p.csv", csv_bytes([("a", "0"), ("b", "1")]), "text/csv")},
        )
        assert positive.status_code == 400, positive.text
        dataset = editor.post(
            "/api/v1/datasets",
            files={
                "file": (
                    "ok.csv",
                    csv_bytes([(f"t {i}", str(i % 2)) for i in range(10)]),
                    "text/csv",
                )
            },
        )
        assert dataset.status_code == 201, dataset.text
        seed = editor.post(
            "/api/v1/models/fit",
            json={
                "name": "seed-range",
                "dataset_id": dataset.json()["id"],
                "model_type": "mnb",
                "random_state": 2**31,
            },
        )
        assert seed.status_code == 422, seed.text
