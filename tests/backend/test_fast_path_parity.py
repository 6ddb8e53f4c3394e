"""The fast predict path answers exactly as the declared routes do.

Two servers from the same data, one with `FAST_PREDICT=false`, get the same requests (good,
bad and odd bodies, content types, tokens, body sizes, origins); every status code, body and
error header must match, and so must what /metrics counts for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import ServerProcess, copy_data_dir, start_backend

VIEWER = "viewer-parity-token-0123456789"
ORIGIN = "https://app.example"
# Headers an answer must carry alike on both paths (besides its status and body).
COMPARED_HEADERS = ("content-type", "www-authenticate", "connection", "access-control-allow-origin")
MODEL = "default-logreg"
JSON = {"content-type": "application/json"}
AUTH = {"authorization": f"Bearer {VIEWER}"}


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()


def _predict_cases() -> list[tuple[str, dict[str, str], bytes]]:
    good = {"model_id": MODEL, "texts": ["you are great", "you are an idiot"]}
    cases: list[tuple[str, dict[str, str], bytes]] = [
        ("good", JSON, _body(good)),
        ("one text", JSON, _body({"model_id": MODEL, "texts": ["hello"]})),
        ("empty text", JSON, _body({"model_id": MODEL, "texts": [""]})),
        ("unicode", JSON, _body({"model_id": MODEL, "texts": ["ты дурак 🙂", "日本語"]})),
        ("long text", JSON, _body({"model_id": MODEL, "texts": ["word " * 20_000]})),
        ("mnb", JSON, _body({"model_id": "default-mnb", "texts": ["hello there"]})),
        ("no texts", JSON, _body({"model_id": MODEL, "texts": []})),
        ("texts missing", JSON, _body({"model_id": MODEL})),
        ("model missing", JSON, _body({"texts": ["a"]})),
        ("extra key", JSON, _body({**good, "threshold": 0.5})),
        ("texts a string", JSON, _body({"model_id": MODEL, "texts": "hello"})),
        ("text a number", JSON, _body({"model_id": MODEL, "texts": ["a", 1]})),
        ("text null", JSON, _body({"model_id": MODEL, "texts": [None]})),
        ("model a number", JSON, _body({"model_id": 7, "texts": ["a"]})),
        ("model empty", JSON, _body({"model_id": "", "texts": ["a"]})),
        ("model too long", JSON, _body({"model_id": "m" * 201, "texts": ["a"]})),
        ("model at the limit", JSON, _body({"model_id": "m" * 200, "texts": ["a"]})),
        ("unknown model", JSON, _body({"model_id": "mdl_nope", "texts": ["a"]})),
        ("unknown alias", JSON, _body({"model_id": "nobody@production", "texts": ["a"]})),
        ("nul in model", JSON, _body({"model_id": "mdl\u0000x", "texts": ["a"]})),
        ("nul in text", JSON, _body({"model_id": MODEL, "texts": ["a\u0000b"]})),
        ("over batch limit", JSON, _body({"model_id": MODEL, "texts": ["a"] * 51})),
        ("at batch limit", JSON, _body({"model_id": MODEL, "texts": ["a"] * 50})),
        # MAX_PREDICT_CHARS is 120,000 on these servers ("long text" holds 100,000).
        ("over chars limit", JSON, _body({"model_id": MODEL, "texts": ["word " * 24_001]})),
        ("at chars limit", JSON, _body({"model_id": MODEL, "texts": ["ab" * 30_000] * 2})),
        ("over chars in many", JSON, _body({"model_id": MODEL, "texts": ["a" * 3000] * 41})),
        ("chars, unknown model", JSON, _body({"model_id": "mdl_nope", "texts": ["a" * 120_001]})),
        ("not json", JSON, b"{model_id: nope"),
        ("empty body", JSON, b""),
        ("json null", JSON, b"null"),
        ("json array", JSON, _body([MODEL, ["a"]])),
        ("json string", JSON, _body("hello")),
        ("nan", JSON, b'{"model_id": "default-logreg", "texts": [NaN]}'),
        ("duplicate key", JSON, b'{"model_id": "x", "model_id": "default-logreg", "texts": ["a"]}'),
        ("whitespace", JSON, b'  \n {"model_id": "default-logreg", "texts": ["a"]} \n'),
        ("escaped", JSON, b'{"model_id": "default-logreg", "texts": ["\\u00e9\\n\\t"]}'),
        ("latin-1 bytes", JSON, b'{"model_id": "default-logreg", "texts": ["caf\xe9"]}'),
        ("text/plain", {"content-type": "text/plain"}, _body(good)),
        ("no content type", {}, _body(good)),
        ("charset", {"content-type": "application/json; charset=utf-8"}, _body(good)),
        ("upper case type", {"content-type": "Application/JSON"}, _body(good)),
        ("+json type", {"content-type": "application/vnd.api+json"}, _body(good)),
        ("form type", {"content-type": "application/x-www-form-urlencoded"}, b"a=b"),
        # MAX_JSON_BODY_MB is 0.25 on these servers.
        ("over body limit", JSON, _body({"model_id": MODEL, "texts": ["ab " * 100_000]})),
        ("over body limit, no token", {**JSON, "authorization": ""}, b"x" * 300_000),
        ("allowed origin", {**JSON, "origin": ORIGIN}, _body(good)),
        ("foreign origin", {**JSON, "origin": "https://elsewhere.example"}, _body(good)),
        ("allowed origin, bad body", {**JSON, "origin": ORIGIN}, b"[1"),
    ]
    return cases


AUTH_CASES: list[tuple[str, dict[str, str]]] = [
    ("no token", {}),
    ("unknown token", {"authorization": "Bearer not-a-known-token-at-all"}),
    ("basic scheme", {"authorization": f"Basic {VIEWER}"}),
    ("lower-case bearer", {"authorization": f"bearer {VIEWER}"}),
    ("bearer without token", {"authorization": "Bearer"}),
]

INVOCATION_CASES: list[tuple[str, dict[str, str], bytes]] = [
    ("split", JSON, _body({"dataframe_split": {"columns": ["text"], "data": [["hi"], ["idiot"]]}})),
    ("records", JSON, _body({"dataframe_records": [{"text": "hi"}, {"text": "you idiot"}]})),
    ("instances", JSON, _body({"instances": ["hi", "you idiot"]})),
    ("inputs", JSON, _body({"inputs": {"text": ["hi"]}})),
    ("csv", {"content-type": "text/csv"}, b"text\nhi\nyou idiot\n"),
    ("two keys", JSON, _body({"instances": ["a"], "inputs": ["b"]})),
    ("no key", JSON, _body({"texts": ["a"]})),
    ("bad json", JSON, b"{"),
    ("plain text", {"content-type": "text/plain"}, b"hello"),
    ("over chars limit", JSON, _body({"instances": ["a" * 60_001, "b" * 60_000]})),
    ("over chars, csv", {"content-type": "text/csv"}, b"text\n" + b"x" * 120_001 + b"\n"),
]


@pytest.fixture(scope="module")
def servers(
    seed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {
        "API_TOKENS": f"viewer:{VIEWER}",
        "MAX_PREDICT_BATCH": "50",
        "MAX_PREDICT_CHARS": "120000",
        "MAX_JSON_BODY_MB": "0.25",
        "CORS_ORIGINS": ORIGIN,
    }
    started = []
    for fast in ("true", "false"):
        data_dir = tmp_path_factory.mktemp(f"parity-{fast}")
        copy_data_dir(seed_data_dir, data_dir / "data")
        started.append(start_backend(data_dir / "data", FAST_PREDICT=fast, **env))
    yield started[0], started[1]
    for server in started:
        server.stop()


def _answer(
    server: ServerProcess, path: str, headers: dict[str, str], body: bytes | Iterator[bytes]
) -> tuple[int, Any, dict[str, str]]:
    content = body if isinstance(body, bytes) else iter(list(body))  # a fresh chunked stream
    response = httpx.post(server.url + path, content=content, headers=headers, timeout=60)
    try:
        payload = response.json()
    except ValueError:
        payload = response.text
    if isinstance(payload, dict):
        # Ids of prediction-log rows are per server; their presence must still match.
        payload = {k: (len(v) if k == "prediction_ids" else v) for k, v in payload.items()}
    compared = {name: response.headers.get(name, "") for name in COMPARED_HEADERS}
    return response.status_code, payload, compared


def _request_counts(server: ServerProcess) -> dict[str, float]:
    """/metrics' request counts of the hot routes, by route template, method and status."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    counts = {}
    for line in text.splitlines():
        if line.startswith("http_requests_total{") and "/api/v1/models/" in line:
            labels, value = line.rsplit(" ", 1)
            counts[labels] = float(value)
    return counts


def _requests() -> list[tuple[str, str, dict[str, str], bytes]]:
    cases = []
    for path in ("/api/v1/models/predict", "/api/v1/models/predict_scores"):
        for name, headers, body in _predict_cases():
            cases.append((f"{path} {name}", path, {**AUTH, **headers}, body))
        for name, auth in AUTH_CASES:
            good = _body({"model_id": MODEL, "texts": ["a"]})
            cases.append((f"{path} {name}", path, {**JSON, **auth}, good))
            cases.append((f"{path} {name}, bad body", path, {**JSON, **auth}, b"[1"))
    for name, headers, body in INVOCATION_CASES:
        for ref in (MODEL, "mdl_nope"):
            path = f"/api/v1/models/{ref}/invocations"
            cases.append((f"invocations {ref} {name}", path, {**AUTH, **headers}, body))
    nul_path = "/api/v1/models/mdl%00x/invocations"
    cases.append(("invocations, NUL in the path", nul_path, {**AUTH, **JSON}, b"{}"))
    return cases


def _chunked(size: int) -> Iterator[bytes]:
    """A body without Content-Length (chunked), `size` bytes of a well-formed request."""
    text = "ab " * (size // 3)
    body = _body({"model_id": MODEL, "texts": [text]})
    return iter([body[i : i + 65536] for i in range(0, len(body), 65536)])


def test_fast_path_and_routes_answer_alike(servers: tuple[ServerProcess, ServerProcess]) -> None:
    fast, routed = servers
    cases: list[tuple[str, str, dict[str, str], bytes | Iterator[bytes]]] = [*_requests()]
    for size, label in ((100_000, "under"), (300_000, "over")):
        chunked = list(_chunked(size))
        for path in ("/api/v1/models/predict", f"/api/v1/models/{MODEL}/invocations"):
            cases.append((f"{path} chunked, {label} the limit", path, {**AUTH, **JSON}, chunked))
    assert len(cases) >= 50
    before = _request_counts(fast), _request_counts(routed)
    differences = []
    for name, path, headers, body in cases:
        expected = _answer(routed, path, headers, body if isinstance(body, bytes) else iter(body))
        actual = _answer(fast, path, headers, body if isinstance(body, bytes) else iter(body))
        if actual != expected:
            differences.append(f"{name}: fast {actual} != route {expected}")
    assert not differences, "\n".join(differences)
    counted = [
        {k: v - old.get(k, 0.0) for k, v in _request_counts(server).items()}
        for server, old in zip((fast, routed), before, strict=True)
    ]
    assert counted[0] == counted[1]
    assert sum(counted[0].values()) == len(cases)


def test_fast_path_answers_well_formed_requests(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    """The parity above must not come from the fast path handing everything on."""
    fast, routed = servers

    def fast_answers(server: ServerProcess) -> float:
        metrics = httpx.get(server.url + "/metrics", timeout=30).text
        lines = [
            line for line in metrics.splitlines() if line.startswith("fast_path_answers_total")
        ]
        return float(lines[0].split()[-1])

    body = _body({"model_id": MODEL, "texts": ["hello"]})
    before = fast_answers(fast)
    for _ in range(3):
        assert _answer(fast, "/api/v1/models/predict", {**AUTH, **JSON}, body)[0] == 200
        assert _answer(routed, "/api/v1/models/predict", {**AUTH, **JSON}, body)[0] == 200
    assert fast_answers(fast) == before + 3
    assert fast_answers(routed) == 0
    fast_log = fast.log()
    assert "Traceback" not in fast_log, fast_log[-3000:]
    assert "Traceback" not in routed.log(), routed.log()[-3000:]
