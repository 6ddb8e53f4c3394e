"""GET /api/v1/model_types: what a fit accepts, served from the backend's own schemas, and a
fit at the served bounds is accepted while one past them is refused."""

from __future__ import annotations

from typing import Any

import httpx

from backend.ml.params import PARAMS_BY_TYPE


def catalog(client: httpx.Client) -> dict[str, Any]:
    answer = client.get("/api/v1/model_types")
    assert answer.status_code == 200, answer.text
    assert client.get("/api/v1/model_types/").json() == answer.json()
    return answer.json()


def test_every_registered_type_with_defaults_bounds_and_help(client: httpx.Client) -> None:
    body = catalog(client)
    types = {entry["name"]: entry for entry in body["model_types"]}
    assert list(types) == list(PARAMS_BY_TYPE)
    c_param = types["logreg"]["params_schema"]["properties"]["C"]
    assert c_param["default"] == 1.0 and c_param["exclusiveMinimum"] == 0
    assert c_param["maximum"] == 1e6 and c_param["description"]
    assert types["sgd"]["params_schema"]["properties"]["alpha"]["maximum"] == 10
    assert types["logreg"]["title"] == "Logistic regression"
    vectorizer = body["vectorizer_schema"]["properties"]
    assert vectorizer["ngram_range"]["prefixItems"][1]["maximum"] == 10
    assert set(body["vectorizer_defaults"]) == set(vectorizer["type"]["enum"])
    assert body["split_schema"]["properties"]["test_size"]["exclusiveMaximum"] == 1


def test_the_served_bounds_are_the_ones_a_fit_enforces(client: httpx.Client) -> None:
    body = catalog(client)
    schema = next(e for e in body["model_types"] if e["name"] == "logreg")["params_schema"]
    top = schema["properties"]["max_iter"]["maximum"]
    refused = client.post(
        "/api/v1/models/fit",
        json={
            "name": "bounds",
            "dataset_id": "ds_missing",
            "model_type": "logreg",
            "params": {"max_iter": top + 1},
        },
    )
    assert refused.status_code == 422 and "max_iter" in refused.text
    at_bound = client.post(
        "/api/v1/models/fit",
        json={
            "name": "bounds",
            "dataset_id": "ds_missing",
            "model_type": "logreg",
            "params": {"max_iter": top},
        },
    )
    assert at_bound.status_code == 404, at_bound.text  # valid params; only the dataset is missing
