"""POST /api/v1/models/{ref}/invocations speaks MLflow's scoring protocol."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

TEXTS = ["you are a wonderful person", "shut up you stupid idiot", "see you at the meeting"]
MODEL = "default-logreg"


def _invoke(
    client: httpx.Client,
    body: Any = None,
    *,
    ref: str = MODEL,
    content: bytes | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    return client.post(
        f"/api/v1/models/{ref}/invocations",
        json=body,
        content=content,
        headers={"content-type": content_type},
    )


@pytest.fixture()
def expected(client: httpx.Client) -> list[Any]:
    response = client.post("/api/v1/models/predict", json={"model_id": MODEL, "texts": TEXTS})
    assert response.status_code == 200, response.text
    return list(response.json()["predictions"])


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["text"], "data": [[t] for t in TEXTS]}},
        {
            "dataframe_split": {
                "columns": ["id", "text"],
                "index": [0, 1, 2],
                "data": [[i, t] for i, t in enumerate(TEXTS)],
            }
        },
        {"dataframe_split": {"data": [[t] for t in TEXTS]}},
        {"dataframe_records": [{"text": t} for t in TEXTS]},
        {"dataframe_records": [{"comment": t} for t in TEXTS]},
        {"instances": TEXTS},
        {"instances": [{"text": t} for t in TEXTS]},
        {"inputs": TEXTS},
        {"inputs": {"text": TEXTS}},
        {"inputs": TEXTS, "params": {}},
    ],
    ids=[
        "split",
        "split-two-columns",
        "split-no-columns",
        "records",
        "records-one-column",
        "instances",
        "instances-records",
        "inputs",
        "inputs-columns",
        "with-params",
    ],
)
def test_mlflow_json_formats_predict_like_predict(
    client: httpx.Client, expected: list[Any], body: dict[str, Any]
) -> None:
    response = _invoke(client, body)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == expected


def test_csv_body(client: httpx.Client, expected: list[Any]) -> None:
    csv_body = "id,text\n" + "".join(f'{i},"{t}"\n' for i, t in enumerate(TEXTS))
    response = _invoke(client, content=csv_body.encode(), content_type="text/csv")
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == expected


def test_alias_reference(client: httpx.Client, expected: list[Any]) -> None:
    promoted = client.post(f"/api/v1/models/{MODEL}/promote", json={"alias": "invocations"})
    assert promoted.status_code == 200, promoted.text
    name = promoted.json()["name"]
    response = _invoke(client, {"instances": TEXTS}, ref=f"{name}@invocations")
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == expected


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"instances": ["a"], "inputs": ["b"]}, 400, "exactly one of the input fields"),
        ({"texts": ["a"]}, 400, "exactly one of the input fields"),
        ([{"text": "a"}], 400, "exactly one of the input fields"),
        ({"instances": []}, 400, "no rows"),
        ({"instances": [1, 2]}, 400, "must be a string"),
        ({"instances": "hello"}, 400, "must be a list"),
        ({"dataframe_split": {"columns": ["a", "b"], "data": [["x", "y"]]}}, 400, "name it 'text'"),
        ({"dataframe_split": {"columns": ["text"]}}, 400, "'data'"),
        ({"dataframe_records": ["a"]}, 400, "list of objects"),
        ({"instances": ["a"] * 10_001}, 413, "MAX_PREDICT_BATCH"),
    ],
    ids=[
        "two-keys",
        "unknown-key",
        "not-object",
        "empty",
        "numbers",
        "string",
        "two-columns",
        "no-data",
        "records-not-objects",
        "over-batch",
    ],
)
def test_bad_bodies_say_what_to_send(
    client: httpx.Client, body: Any, status: int, says: str
) -> None:
    response = _invoke(client, body)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]


def test_bad_content_and_unknown_model(client: httpx.Client) -> None:
    response = _invoke(client, content=b"hello", content_type="text/plain")
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert _invoke(client, content=b"{", content_type="application/json").status_code == 400
    response = _invoke(client, content=b"text\n", content_type="text/csv")
    assert response.status_code == 400 and "row" in response.json()["detail"]
    response = _invoke(client, content=b"text\n\xff\xfe\n", content_type="text/csv")
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]
    response = _invoke(client, {"instances": ["a"]}, ref="mdl_unknown")
    assert response.status_code == 404


def test_in_openapi(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    operation = paths["/api/v1/models/{model_ref}/invocations"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/csv"}
