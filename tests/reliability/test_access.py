"""Access: a compact role check of every route, tokens never logged, path traversal in ids and
names refused, foreign pickles/skops refused, CORS limited to CORS_ORIGINS, and body size
limits on every route that takes a body. (The full role matrix is in tests/mlops.)"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from tests.conftest import StartServer
from tests.reliability.conftest import upload_csv
from tests.servers import ServerProcess

TOKENS = {"viewer": "rel-viewer-7f3a9c", "editor": "rel-editor-2b8e1d", "admin": "rel-admin-94c0e6"}
API_TOKENS = ",".join(f"{role}:{token}" for role, token in TOKENS.items())
WRONG_TOKEN = "rel-wrong-55aa11"
OPEN = None
# Minimum role per operation of the live OpenAPI document; a new route must be added here.
MIN_ROLE: dict[str, str | None] = {
    "GET /health": OPEN,
    "GET /ready": OPEN,
    "GET /metrics": OPEN,
    "GET /api/v1/datasets/": "viewer",
    "GET /api/v1/datasets/{dataset_id}": "viewer",
    "GET /api/v1/datasets/{dataset_id}/download": "viewer",
    "POST /api/v1/datasets/": "editor",
    "POST /api/v1/datasets/preview": "editor",
    "DELETE /api/v1/datasets/{dataset_id}": "editor",
    "GET /api/v1/models/": "viewer",
    "GET /api/v1/models/{model_id}": "viewer",
    "POST /api/v1/models/predict": "viewer",
    "POST /api/v1/models/predict_scores": "viewer",
    "POST /api/v1/models/evaluate": "viewer",
    "POST /api/v1/models/fit": "editor",
    "POST /api/v1/models/retrain": "editor",
    "POST /api/v1/models/load": "editor",
    "POST /api/v1/models/unload": "editor",
    "POST /api/v1/models/remove": "editor",
    "DELETE /api/v1/models/{model_id}": "editor",
    "POST /api/v1/models/{model_id}/promote": "editor",
    "POST /api/v1/models/remove_all": "admin",
    "GET /api/v1/models/{model_id}/download": "admin",
    "POST /api/v1/models/upload": "admin",
    "GET /api/v1/tasks/": "viewer",
    "GET /api/v1/tasks/{task_id}": "viewer",
    "POST /api/v1/tasks/{task_id}/cancel": "editor",
    "GET /api/v1/predictions/": "viewer",
    "GET /api/v1/whoami": "viewer",
    "GET /api/v1/limits": "viewer",
    "GET /api/v1/model_types/": "viewer",
    "POST /api/v1/models/{model_ref}/invocations": "viewer",
    "POST /api/v1/models/explain": "viewer",
    "GET /api/v1/models/{model_id}/threshold": "viewer",
    "POST /api/v1/models/{model_id}/threshold": "editor",
    "GET /api/v1/models/{model_id}/drift": "viewer",
    "POST /api/v1/feedback/": "viewer",
    "GET /api/v1/feedback/": "viewer",
    "GET /api/v1/feedback/summary": "viewer",
    "POST /api/v1/feedback/dataset": "editor",
}
LOWER = {"viewer": None, "editor": "viewer", "admin": "editor"}
# Ids and names that try to leave their directory or smuggle a NUL byte.
TRAVERSALS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "/etc/passwd",
    "..",
    "a/../../b",
    "..\\..\\windows",
    "%2e%2e%2f%2e%2e%2fapp.db",
    "x%00.csv",
    "C:\\temp\\x",
    "....//....//app.db",
]
BODY_TRAVERSALS = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    "a\x00b",
    "../app",
    "..\\..\\x",
    "~/.ssh/id_rsa",
    "default-logreg/../../app.db",
]


def _auth(role: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}


@pytest.fixture(scope="module")
def auth_server(
    seed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    from tests.servers import copy_data_dir, start_backend

    data_dir = tmp_path_factory.mktemp("access") / "data"
    copy_data_dir(seed_data_dir, data_dir)
    server = start_backend(
        data_dir,
        API_TOKENS=API_TOKENS,
        CORS_ORIGINS="https://app.example",
        MAX_JSON_BODY_MB="1",
        MAX_UPLOAD_MB="2",
    )
    yield server
    server.stop()


def _call(
    server: ServerProcess, operation: str, role: str | None, token: str | None = None
) -> httpx.Response:
    method, path = operation.split(" ", 1)
    path = path.replace("{dataset_id}", "ds_unknown").replace("{model_id}", "mdl_unknown")
    path = path.replace("{task_id}", "task_unknown").replace("{model_ref}", "mdl_unknown")
    headers = {"Authorization": f"Bearer {token}"} if token else _auth(role)
    kwargs: dict[str, Any] = {}
    if method == "POST" and path.endswith(("/datasets/", "/upload")):
        kwargs["files"] = {"file": ("x.bin", b"not a real file", "application/octet-stream")}
    elif method == "POST":
        kwargs["json"] = {}
    return httpx.request(method, server.url + path, headers=headers, timeout=30, **kwargs)


def test_role_of_every_route(auth_server: ServerProcess) -> None:
    spec = httpx.get(f"{auth_server.url}/openapi.json", timeout=30).json()
    operations = {
        f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item
    }
    assert operations == set(MIN_ROLE), "routes changed: update MIN_ROLE (who may call it?)"
    wrong: list[str] = []
    for operation, role in MIN_ROLE.items():
        expected: list[tuple[str | None, str | None, set[int]]] = []
        if role is OPEN:
            expected.append((None, None, {200, 503}))
        else:
            expected.append((None, None, {401}))
            expected.append((None, WRONG_TOKEN, {401}))
            if LOWER[role]:
                expected.append((LOWER[role], None, {403}))
            expected.append((role, None, set(range(200, 600)) - {401, 403, 500}))
        for who, token, statuses in expected:
            response = _call(auth_server, operation, who, token)
            if response.status_code not in statuses:
                wrong.append(
                    f"{operation} as {who or token or 'anonymous'}: "
                    f"{response.status_code} {response.text[:200]}"
                )
    assert wrong == []


def test_tokens_never_logged(auth_server: ServerProcess) -> None:
    for role in TOKENS:
        httpx.post(
            f"{auth_server.url}/api/v1/models/predict",
            headers=_auth(role),
            timeout=30,
            json={"model_id": "default-logreg", "texts": ["hello"]},
        )
    httpx.get(
        f"{auth_server.url}/api/v1/models/",
        timeout=30,
        headers={"Authorization": f"Bearer {WRONG_TOKEN}"},
    )
    httpx.get(
        f"{auth_server.url}/api/v1/models/",
        timeout=30,
        headers={"Authorization": f"Basic {WRONG_TOKEN}x"},
    )
    data_dir = Path(auth_server.env["DATA_DIR"])
    texts = [auth_server.log()] + [
        p.read_text(errors="replace")
        for p in Path(auth_server.env["LOG_DIR"]).rglob("*")
        if p.is_file()
    ]
    texts.append((data_dir / "app.db").read_bytes().decode("latin-1"))
    secrets = [*TOKENS.values(), WRONG_TOKEN]
    assert texts[0].strip(), "the server log is empty: nothing was checked"
    for text in texts:
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_traversal_in_path_ids_refused(auth_server: ServerProcess, bad: str) -> None:
    admin = _auth("admin")
    for method, template in [
        ("GET", "/api/v1/datasets/{}"),
        ("DELETE", "/api/v1/datasets/{}"),
        ("GET", "/api/v1/models/{}"),
        ("DELETE", "/api/v1/models/{}"),
        ("GET", "/api/v1/models/{}/download"),
        ("GET", "/api/v1/datasets/{}/download"),
        ("GET", "/api/v1/tasks/{}"),
        ("POST", "/api/v1/tasks/{}/cancel"),
    ]:
        url = auth_server.url + template.format(bad)
        response = httpx.request(method, url, headers=admin, timeout=30)
        assert response.status_code in (400, 404, 405, 422), (method, url, response.text)
        assert not response.content.startswith(b"SQLite") and b"root:" not in response.content


@pytest.mark.parametrize("bad", BODY_TRAVERSALS)
def test_traversal_in_body_ids_and_names_refused(auth_server: ServerProcess, bad: str) -> None:
    admin = _auth("admin")
    for path, body in [
        ("/models/load", {"model_id": bad}),
        ("/models/predict", {"model_id": bad, "texts": ["x"]}),
        ("/models/evaluate", {"model_id": "default-logreg", "dataset_id": bad}),
        ("/models/fit", {"name": "ok", "dataset_id": bad}),
        ("/models/fit", {"name": bad, "dataset_id": "sample-toxic-en"}),
        ("/models/remove", {"model_id": bad}),
        ("/models/default-logreg/promote", {"alias": bad}),
    ]:
        response = httpx.post(
            f"{auth_server.url}/api/v1{path}", json=body, headers=admin, timeout=30
        )
        assert response.status_code in (400, 404, 422), (path, body, response.text)


def test_uploaded_names_never_become_paths(auth_server: ServerProcess) -> None:
    data_dir = Path(auth_server.env["DATA_DIR"])
    before = {p for p in data_dir.parent.rglob("*")}
    content = b"text,label\n" + b"".join(f"row {i},{i % 2}\n".encode() for i in range(20))
    for bad in BODY_TRAVERSALS[:-1]:
        response = upload_csv(
            auth_server,
            content,
            filename=bad.replace("\x00", ""),
            headers=_auth("editor"),
            name=bad.replace("\x00", ""),
        )
        assert response.status_code == 201, response.text
        dataset_id = response.json()["id"]
        assert "/" not in dataset_id and ".." not in dataset_id
        stored = list((data_dir / "datasets").glob(f"{dataset_id}*"))
        assert [p.name for p in stored] == [f"{dataset_id}.csv"]
    # A small valid model file: the defaults' own are over this server's MAX_UPLOAD_MB.
    fitted = Pipeline([("vectorizer", CountVectorizer()), ("classifier", MultinomialNB())])
    skops = sio.dumps(fitted.fit(["good text", "bad text", "fine", "awful"], [0, 1, 0, 1]))
    response = httpx.post(
        f"{auth_server.url}/api/v1/models/upload",
        headers=_auth("admin"),
        timeout=60,
        data={"name": "../../evil"},
        files={"file": ("../../evil.skops", skops, "application/octet-stream")},
    )
    assert response.status_code == 422, response.text
    new = {p for p in data_dir.parent.rglob("*")} - before
    outside = [p for p in new if data_dir not in p.parents]
    assert outside == []


class Foreign:
    """A type no allow-list knows."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch /tmp/reliability-pwned",))


def test_foreign_model_files_refused(auth_server: ServerProcess, tmp_path: Path) -> None:
    sentinel = Path("/tmp/reliability-pwned")
    sentinel.unlink(missing_ok=True)
    fitted = Pipeline([("vectorizer", CountVectorizer()), ("classifier", MultinomialNB())])
    fitted.fit(["good text", "bad text", "fine", "awful"], [0, 1, 0, 1])
    hooked = Pipeline([("hook", FunctionTransformer(os.system)), *fitted.steps])
    buffer = io.BytesIO()
    pickle.dump(Foreign(), buffer)
    files = {
        "pickle": buffer.getvalue(),
        "pickled pipeline": pickle.dumps(fitted),
        "skops with os.system": sio.dumps(hooked),
        "skops of a dict with a function": sio.dumps({"f": os.system, "m": fitted}),
        "garbage": os.urandom(2048),
    }
    for label, payload in files.items():
        response = httpx.post(
            f"{auth_server.url}/api/v1/models/upload",
            timeout=60,
            headers=_auth("admin"),
            data={"name": "foreign"},
            files={"file": ("model.skops", payload, "application/octet-stream")},
        )
        assert response.status_code == 400, (label, response.text)
        detail = response.json()["detail"]
        if "os.system" in label:
            assert "untrusted" in detail and "system" in detail, detail
    assert not sentinel.exists(), "a foreign file ran code on the server"
    names = [
        m["name"]
        for m in httpx.get(
            f"{auth_server.url}/api/v1/models/", timeout=30, headers=_auth("viewer")
        ).json()
    ]
    assert "foreign" not in names
    # a clean skops pipeline is accepted: the refusals above are about the types
    ok = httpx.post(
        f"{auth_server.url}/api/v1/models/upload",
        timeout=60,
        headers=_auth("admin"),
        data={"name": "clean-upload"},
        files={"file": ("m.skops", sio.dumps(fitted), "application/octet-stream")},
    )
    assert ok.status_code == 200, ok.text


def test_cors_only_for_configured_origins(
    auth_server: ServerProcess, start_server: StartServer
) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    url = f"{auth_server.url}/api/v1/models/predict"
    allowed = httpx.options(url, headers={"Origin": "https://app.example", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    for origin in ("https://evil.example", "null", "https://app.example.evil.com"):
        refused = httpx.options(url, headers={"Origin": origin, **preflight})
        assert "access-control-allow-origin" not in refused.headers, origin
        simple = httpx.get(f"{auth_server.url}/health", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers, origin
    assert (
        httpx.get(f"{auth_server.url}/health", headers={"Origin": "https://app.example"}).headers[
            "access-control-allow-origin"
        ]
        == "https://app.example"
    )

    unset = start_server()  # no CORS_ORIGINS: no cross-origin access at all
    response = httpx.options(
        f"{unset.url}/api/v1/models/predict", headers={"Origin": "https://app.example", **preflight}
    )
    assert "access-control-allow-origin" not in response.headers


def test_body_size_limits_on_every_body(auth_server: ServerProcess) -> None:
    spec = httpx.get(f"{auth_server.url}/openapi.json", timeout=30).json()
    admin = _auth("admin")
    big_json = b'{"texts": ["' + b"a" * (1024 * 1024 + 100) + b'"], "model_id": "x"}'
    checked = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if not content and method != "post":
                continue
            url = auth_server.url + path.replace("{model_id}", "default-logreg").replace(
                "{task_id}", "task_x"
            )
            if "multipart/form-data" in content:
                payload = b"text,label\n" + b"b" * (3 * 1024 * 1024 + 2 * 1024 * 1024)
                response = httpx.request(
                    method,
                    url,
                    headers=admin,
                    timeout=60,
                    files={"file": ("big.csv", payload, "text/csv")},
                )
                setting = "MAX_UPLOAD_MB"
            else:
                response = httpx.request(
                    method,
                    url,
                    headers={**admin, "content-type": "application/json"},
                    content=big_json,
                    timeout=60,
                )
                setting = "MAX_JSON_BODY_MB"
            assert response.status_code == 413, (method, path, response.text)
            assert setting in response.json()["detail"]
            checked.append(f"{method.upper()} {path}")
            if not content:
                continue  # a body the route never reads is never buffered either
            # and without a Content-Length: the limit holds while the body streams in
            if setting == "MAX_UPLOAD_MB":
                head = (
                    b'--b\r\nContent-Disposition: form-data; name="file"; '
                    b'filename="big.csv"\r\n\r\n'
                )
                chunks, kind = [head] + [b"c" * 2**20] * 4, "multipart/form-data; boundary=b"
            else:
                chunks, kind = [big_json] * 3, "application/json"
            streamed = httpx.request(
                method,
                url,
                timeout=60,
                content=iter(chunks),
                headers={**admin, "content-type": kind},
            )
            assert streamed.status_code == 413, (method, path, streamed.text)
            assert setting in streamed.json()["detail"]
    assert len(checked) >= 12, checked
