"""POST /api/v1/models/explain on both databases with API tokens: labels agree with predict,
tokens are the text's own words, the answer is the same in another process, limits and roles."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import Pipeline

from backend.ml.explain import explain
from tests.backend.api_steps import MODELS, assert_error, load_ok, train
from tests.mlops.conftest import dataset_on, role_client
from tests.servers import ServerProcess

TEXTS = ["you are a stupid idiot", "have a wonderful day, friend", "", "idiot idiot IDIOT"]
WORD = {"ngram_range": [1, 2], "min_df": 2}
MISSING = object()
CHAR = {"analyzer": "char_wb", "ngram_range": [2, 4], "min_df": 2}


@pytest.fixture(scope="module")
def models(db_server: ServerProcess, editor: httpx.Client, small_csv: Path) -> dict[str, Any]:
    """A word logreg (loaded), a char_wb naive Bayes and a char_wb linear SVM (not loaded)."""
    dataset = dataset_on(db_server, small_csv)["id"]
    trained = {
        "logreg": train(editor, dataset, "explain-logreg", model_type="logreg", vectorizer=WORD),
        "mnb": train(editor, dataset, "explain-mnb", model_type="mnb", vectorizer=CHAR),
        "svc": train(editor, dataset, "explain-svc", model_type="svc", vectorizer=CHAR),
    }
    load_ok(editor, trained["logreg"]["id"])
    return trained


def explain_call(
    client: httpx.Client, model_id: str, texts: list[str], **extra: Any
) -> httpx.Response:
    return client.post(f"{MODELS}/explain", json={"model_id": model_id, "texts": texts, **extra})


@pytest.mark.parametrize("kind", ["logreg", "mnb", "svc"])
def test_labels_scores_and_tokens(
    kind: str, models: dict[str, Any], viewer: httpx.Client, editor: httpx.Client
) -> None:
    model = models[kind]
    response = explain_call(viewer, model["id"], TEXTS, top_k=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_id"] == model["id"]
    assert len(body["explanations"]) == len(TEXTS)
    load_ok(editor, model["id"])
    predicted = viewer.post(f"{MODELS}/predict", json={"model_id": model["id"], "texts": TEXTS})
    scores = viewer.post(
        f"{MODELS}/predict_scores", json={"model_id": model["id"], "texts": TEXTS}
    ).json()
    for text, item, label, row in zip(
        TEXTS, body["explanations"], predicted.json()["predictions"], scores["scores"], strict=True
    ):
        assert item["label"] == label
        assert item["score"] == pytest.approx(row[scores["classes"].index(label)])
        weights = [token["weight"] for token in item["tokens"]]
        assert weights == sorted(weights, reverse=True)
        assert len(item["tokens"]) <= 5
        for token in item["tokens"]:
            # Word n-grams and the words char n-grams were summed into: all from the text.
            assert all(word in text.lower() for word in token["token"].split()), token
    assert body["explanations"][2]["tokens"] == []  # an empty text has no features
    toxic = body["explanations"][0]
    if toxic["label"] == 1:  # the insults are what pushed it there
        assert {"stupid", "idiot"} & {t["token"] for t in toxic["tokens"][:3]}, toxic


def test_same_answer_in_another_process(
    db_server: ServerProcess, models: dict[str, Any], viewer: httpx.Client
) -> None:
    """The server's answer equals one computed here from the downloaded model file."""
    model_id = models["svc"]["id"]
    served = explain_call(viewer, model_id, TEXTS, top_k=50).json()["explanations"]
    with role_client(db_server, "admin") as admin:
        payload = admin.get(f"{MODELS}/{model_id}/download").raise_for_status().content
    pipeline = sio.load(io.BytesIO(payload), trusted=sio.get_untrusted_types(data=payload))
    assert served == explain(pipeline, TEXTS, 50)
    assert explain_call(viewer, model_id, TEXTS, top_k=50).json()["explanations"] == served


def test_a_kind_without_weights_says_why(
    db_server: ServerProcess, small_csv: Path, viewer: httpx.Client
) -> None:
    pipeline = Pipeline([("vectorizer", TfidfVectorizer()), ("classifier", NearestCentroid())])
    pipeline.fit(["good day", "nice one", "you idiot", "stupid fool"], [0, 0, 1, 1])
    with role_client(db_server, "admin") as admin:
        uploaded = admin.post(
            f"{MODELS}/upload",
            data={"name": "explain-centroid"},
            files={"file": ("centroid.skops", sio.dumps(pipeline))},
        )
    assert uploaded.status_code == 200, uploaded.text
    response = explain_call(viewer, uploaded.json()["id"], ["you idiot"])
    assert_error(response, 400, "cannot explain", "NearestCentroid", "linear model")


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"model_id": MISSING, "texts": ["a"]}, 422, "model_id"),
        ({"model_id": "", "texts": ["a"]}, 422, "model_id"),
        ({"texts": MISSING}, 422, "texts"),
        ({"texts": []}, 422, "texts"),
        ({"texts": ["a"], "top_k": 0}, 422, "top_k"),
        ({"texts": ["a"], "top_k": 201}, 422, "top_k"),
        ({"texts": ["a"], "top_k": "many"}, 422, "top_k"),
        ({"texts": ["a"], "top_k": 1.5}, 422, "top_k"),
        ({"texts": [None]}, 422, "texts"),
        ({"texts": ["a"], "threshold": 0.5}, 422, "threshold"),
        ({"texts": ["a"] * 10_001}, 413, "MAX_PREDICT_BATCH"),
    ],
)
def test_bad_input(
    body: dict[str, Any], status: int, needle: str, models: dict[str, Any], viewer: httpx.Client
) -> None:
    payload = {"model_id": models["logreg"]["id"], **body}
    payload = {key: value for key, value in payload.items() if value is not MISSING}
    response = viewer.post(f"{MODELS}/explain", json=payload)
    assert_error(response, status, needle)


def test_unknown_model_and_roles(db_server: ServerProcess, viewer: httpx.Client) -> None:
    assert_error(explain_call(viewer, "mdl_nope", ["a"]), 404, "mdl_nope")
    assert_error(explain_call(viewer, "nope@production", ["a"]), 404)
    with role_client(db_server, None) as anonymous:
        assert_error(explain_call(anonymous, "mdl_nope", ["a"]), 401, "bearer")
