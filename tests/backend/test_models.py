"""/api/v1/models against the shared backend: fit → load → predict, scores, evaluate, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from backend.ml.params import validate_params, validate_vectorizer
from backend.ml.pipeline import build_pipeline
from backend.ml.training import split
from tests.backend.api_steps import (
    DEFAULT_IDS,
    MODELS,
    PROBES,
    assert_error,
    get_model,
    load,
    load_ok,
    predict,
    predictions,
    submit_fit,
    train,
    unload,
    upload_ok,
    wait_task,
)
from tests.servers import ServerProcess

MODEL_FIELDS = {
    "id",
    "name",
    "version",
    "model_type",
    "params",
    "vectorizer",
    "status",
    "loaded",
    "is_default",
    "aliases",
    "metrics",
    "dataset_id",
    "created_at",
}


def local_pipeline(
    csv_path: Path, model_type: str, params: dict[str, Any], vectorizer: dict[str, Any]
) -> tuple[Any, list[str], np.ndarray]:
    """The same pipeline trained here on the same train split; also the held-out texts."""
    frame = pd.read_csv(csv_path, dtype={"text": str}, keep_default_na=False)
    x_train, x_test, y_train, y_test = split(frame, 0.2, 42)
    pipeline = build_pipeline(
        model_type,
        validate_params(model_type, params),
        validate_vectorizer(vectorizer),
        random_state=42,
    )
    pipeline.fit(x_train, y_train)
    return pipeline, list(x_test), np.asarray(y_test)


@pytest.fixture(scope="module")
def http(backend: ServerProcess) -> Any:
    with httpx.Client(base_url=backend.url, timeout=60) as client:
        yield client


@pytest.fixture(autouse=True)
def unload_afterwards(http: httpx.Client) -> Any:
    """Keep the shared backend under MAX_LOADED_MODELS: unload what a test loaded."""
    yield
    for model in http.get(MODELS).json():
        if model["loaded"] and not model["is_default"]:
            assert unload(http, model["id"]).status_code == 200


@pytest.fixture(scope="module")
def trained_logreg(http: httpx.Client, small_dataset: dict[str, Any]) -> dict[str, Any]:
    return train(
        http,
        small_dataset["id"],
        "models-logreg",
        model_type="logreg",
        params={"C": 2.0},
        vectorizer={"ngram_range": [1, 2], "min_df": 2},
    )


@pytest.fixture()
def logreg(http: httpx.Client, trained_logreg: dict[str, Any]) -> dict[str, Any]:
    """A logreg trained on `small_csv`, loaded for this test."""
    return load_ok(http, trained_logreg["id"])


@pytest.fixture(scope="module")
def string_labels_csv(small_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = pd.read_csv(small_csv)
    frame["label"] = frame["label"].map({0: "clean", 1: "toxic"})
    path = tmp_path_factory.mktemp("csv") / "string_labels.csv"
    frame.to_csv(path, index=False)
    return path


def test_fit_then_predict_matches_the_same_pipeline_trained_here(
    client: httpx.Client, small_csv: Path, small_dataset: dict[str, Any]
) -> None:
    params, vectorizer = {"C": 2.0}, {"ngram_range": [1, 2], "min_df": 2}
    response = submit_fit(
        client,
        small_dataset["id"],
        "match-check",
        model_type="logreg",
        params=params,
        vectorizer=vectorizer,
        test_size=0.2,
        random_state=42,
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    training = get_model(client, accepted["model_id"])
    assert training["status"] in ("training", "trained")
    task = wait_task(client, accepted["task_id"])
    assert task["status"] == "succeeded", task
    assert task["progress"] == 1.0
    assert task["model_id"] == accepted["model_id"]

    model = get_model(client, accepted["model_id"])
    assert set(model) >= MODEL_FIELDS
    assert model["status"] == "trained"
    assert model["loaded"] is False  # a fresh fit is trained, not loaded
    assert model["is_default"] is False
    assert model["dataset_id"] == small_dataset["id"]
    assert model["params"]["C"] == 2.0
    assert model["vectorizer"]["ngram_range"] == [1, 2]
    assert_error(predict(client, model["id"], PROBES), 409, "not loaded")

    pipeline, x_test, y_test = local_pipeline(small_csv, "logreg", params, vectorizer)
    expected = pipeline.predict(x_test)
    assert model["metrics"]["accuracy"] == pytest.approx(accuracy_score(y_test, expected))
    assert model["metrics"]["n_test"] == len(x_test)

    loaded = load_ok(client, model["id"])
    assert loaded["id"] == model["id"]
    texts = x_test + PROBES
    served = predictions(client, model["id"], texts)
    assert served == pipeline.predict(texts).tolist()

    scores = predict(client, model["id"], texts, route="predict_scores")
    assert scores.status_code == 200, scores.text
    body = scores.json()
    assert body["model_id"] == model["id"]
    assert body["classes"] == [0, 1]
    assert body["score_kind"] == "probability"
    np.testing.assert_allclose(body["scores"], pipeline.predict_proba(texts), rtol=1e-9)


def test_svc_scores_are_a_signed_decision_function(
    client: httpx.Client, small_csv: Path, small_dataset: dict[str, Any]
) -> None:
    model = train(client, small_dataset["id"], "models-svc", model_type="svc", params={"C": 0.5})
    load_ok(client, model["id"])
    pipeline, _x_test, _y_test = local_pipeline(small_csv, "svc", {"C": 0.5}, {})
    response = predict(client, model["id"], PROBES, route="predict_scores")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["score_kind"] == "decision_function"
    assert body["classes"] == [0, 1]
    decision = pipeline.decision_function(PROBES)
    np.testing.assert_allclose(body["scores"], np.column_stack([-decision, decision]), rtol=1e-9)
    assert predictions(client, model["id"], PROBES) == pipeline.predict(PROBES).tolist()


def test_mnb_and_default_models_predict(
    client: httpx.Client, small_dataset: dict[str, Any]
) -> None:
    model = train(
        client,
        small_dataset["id"],
        "models-mnb",
        model_type="mnb",
        params={"alpha": 0.5},
        vectorizer={"type": "count"},
    )
    load_ok(client, model["id"])
    body = predict(client, model["id"], PROBES, route="predict_scores").json()
    assert body["score_kind"] == "probability"
    for row in body["scores"]:
        assert sum(row) == pytest.approx(1.0)
    for default_id in DEFAULT_IDS:
        labels = predictions(client, default_id, PROBES)
        assert len(labels) == len(PROBES)
        assert all(type(label) is int and label in (0, 1) for label in labels)


def test_labels_keep_their_type(
    client: httpx.Client, logreg: dict[str, Any], string_labels_csv: Path
) -> None:
    int_labels = predictions(client, logreg["id"], PROBES)
    assert all(type(label) is int for label in int_labels)
    assert logreg["classes"] == [0, 1]
    assert logreg["metrics"]["positive_label"] == 1

    dataset = upload_ok(client, string_labels_csv)
    assert dataset["classes"] == {"clean": 700, "toxic": 1300}
    model = train(client, dataset["id"], "models-strings")
    assert model["classes"] == ["clean", "toxic"]
    assert model["metrics"]["positive_label"] == "toxic"
    load_ok(client, model["id"])
    str_labels = predictions(client, model["id"], PROBES)
    assert all(label in ("clean", "toxic") for label in str_labels)
    # Same data, same split, same default pipeline: the labels map one to one.
    int_model = train(client, logreg["dataset_id"], "models-ints")
    load_ok(client, int_model["id"])
    mapped = [
        "toxic" if label == 1 else "clean" for label in predictions(client, int_model["id"], PROBES)
    ]
    assert str_labels == mapped
    body = predict(client, model["id"], PROBES, route="predict_scores").json()
    assert body["classes"] == ["clean", "toxic"]


def test_positive_label_chooses_the_class_metrics_score(
    client: httpx.Client, small_csv: Path, small_dataset: dict[str, Any]
) -> None:
    dataset = upload_ok(client, small_csv, positive_label="0")
    model = train(client, dataset["id"], "models-positive-0")
    assert model["metrics"]["positive_label"] == 0
    usual = train(client, small_dataset["id"], "models-positive-1")
    assert usual["metrics"]["positive_label"] == 1
    assert model["metrics"]["accuracy"] == pytest.approx(usual["metrics"]["accuracy"])
    assert model["metrics"]["f1"] != pytest.approx(usual["metrics"]["f1"])


def test_evaluate_gives_metrics_roc_and_confusion_matrix(
    client: httpx.Client, logreg: dict[str, Any], small_dataset: dict[str, Any]
) -> None:
    response = client.post(
        f"{MODELS}/evaluate", json={"model_id": logreg["id"], "dataset_id": small_dataset["id"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["metrics"]) >= {"accuracy", "f1", "precision", "recall", "roc_auc"}
    for value in body["metrics"].values():
        if isinstance(value, float):
            assert 0.0 <= value <= 1.0
    roc = body["roc"]
    assert len(roc["fpr"]) == len(roc["tpr"]) == len(roc["thresholds"]) > 2
    assert roc["fpr"][0] == 0.0 and roc["tpr"][-1] == 1.0
    matrix = body["confusion_matrix"]
    assert np.asarray(matrix).shape == (2, 2)
    assert sum(map(sum, matrix)) == small_dataset["rows"]
    assert sum(matrix[1]) == small_dataset["classes"]["1"]

    # A model that is not loaded evaluates too (it is read from its file).
    default_eval = client.post(
        f"{MODELS}/evaluate", json={"model_id": "default-svc", "dataset_id": small_dataset["id"]}
    )
    assert default_eval.status_code == 200, default_eval.text
    assert_error(
        client.post(f"{MODELS}/evaluate", json={"model_id": logreg["id"], "dataset_id": "ds_nope"}),
        404,
    )
    assert_error(
        client.post(
            f"{MODELS}/evaluate", json={"model_id": "mdl_nope", "dataset_id": small_dataset["id"]}
        ),
        404,
    )


def test_evaluate_on_differently_labelled_data_is_400(
    client: httpx.Client, logreg: dict[str, Any], string_labels_csv: Path
) -> None:
    dataset = upload_ok(client, string_labels_csv)
    response = client.post(
        f"{MODELS}/evaluate", json={"model_id": logreg["id"], "dataset_id": dataset["id"]}
    )
    assert_error(response, 400, "labels")


def test_list_and_get(client: httpx.Client, logreg: dict[str, Any]) -> None:
    for path in (MODELS, MODELS + "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        listed = {m["id"]: m for m in response.json()}
        assert set(DEFAULT_IDS) <= set(listed)
        assert listed[logreg["id"]]["loaded"] is True
        for model in listed.values():
            assert set(model) >= MODEL_FIELDS
            assert model["created_at"].endswith("Z")
    for default_id in DEFAULT_IDS:
        default = get_model(client, default_id)
        assert default["is_default"] is True and default["loaded"] is True
    assert_error(client.get(f"{MODELS}/mdl_missing"), 404, "mdl_missing")


def test_a_used_name_makes_the_next_version(
    client: httpx.Client, small_dataset: dict[str, Any]
) -> None:
    first = train(client, small_dataset["id"], "versioned")
    second = train(client, small_dataset["id"], "versioned", model_type="mnb")
    assert (first["version"], second["version"]) == (1, 2)
    assert first["id"] != second["id"]


def test_load_and_unload(client: httpx.Client, small_dataset: dict[str, Any]) -> None:
    model = train(client, small_dataset["id"], "load-unload")
    assert_error(predict(client, model["id"], ["hi"]), 409, model["id"], "load")
    assert load_ok(client, model["id"])["loaded"] is True
    assert load_ok(client, model["id"])["loaded"] is True  # a no-op the second time
    assert len(predictions(client, model["id"], ["hi", "there"])) == 2

    response = unload(client, model["id"])
    assert response.status_code == 200, response.text
    assert response.json()["loaded"] is False
    again = unload(client, model["id"])
    assert again.status_code == 200 and again.json()["loaded"] is False
    assert_error(predict(client, model["id"], ["hi"]), 409, "not loaded")
    assert_error(predict(client, model["id"], ["hi"], route="predict_scores"), 409)
    assert get_model(client, model["id"])["loaded"] is False

    assert_error(load(client, "mdl_missing"), 404)
    assert_error(unload(client, "mdl_missing"), 404)
    assert_error(predict(client, "mdl_missing", ["hi"]), 404)


def test_default_models_cannot_be_unloaded_or_removed(client: httpx.Client) -> None:
    for default_id in DEFAULT_IDS:
        assert_error(unload(client, default_id), 403, "default")
        assert_error(client.post(f"{MODELS}/remove", json={"model_id": default_id}), 403)
        assert_error(client.delete(f"{MODELS}/{default_id}"), 403)
        model = get_model(client, default_id)
        assert model["loaded"] is True
    assert len(predictions(client, "default-logreg", ["still here"])) == 1


@pytest.mark.parametrize("how", ["post", "delete"])
def test_remove_deletes_record_and_artifact(
    client: httpx.Client, backend: ServerProcess, small_dataset: dict[str, Any], how: str
) -> None:
    model = train(client, small_dataset["id"], f"removable-{how}")
    load_ok(client, model["id"])
    artifact = Path(backend.env["DATA_DIR"]) / "models" / f"{model['id']}.skops"
    assert artifact.is_file()
    if how == "post":
        response = client.post(f"{MODELS}/remove", json={"model_id": model["id"]})
    else:
        response = client.delete(f"{MODELS}/{model['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["model_id"] == model["id"]
    assert not artifact.exists()
    assert_error(client.get(f"{MODELS}/{model['id']}"), 404)
    assert model["id"] not in [m["id"] for m in client.get(MODELS).json()]
    assert_error(predict(client, model["id"], ["hi"]), 404)
    assert_error(client.post(f"{MODELS}/remove", json={"model_id": model["id"]}), 404)


def test_promote_moves_the_alias_and_predict_resolves_it(
    client: httpx.Client, small_dataset: dict[str, Any]
) -> None:
    first = train(client, small_dataset["id"], "promoted")
    second = train(client, small_dataset["id"], "promoted", model_type="svc")
    load_ok(client, first["id"])
    load_ok(client, second["id"])

    promoted = client.post(f"{MODELS}/{first['id']}/promote", json={"alias": "production"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["aliases"] == ["production"]
    response = predict(client, "promoted@production", PROBES)
    assert response.status_code == 200, response.text
    assert response.json()["model_id"] == first["id"]
    assert response.json()["predictions"] == predictions(client, first["id"], PROBES)

    moved = client.post(f"{MODELS}/{second['id']}/promote", json={"alias": "production"})
    assert moved.status_code == 200
    assert moved.json()["aliases"] == ["production"]
    assert get_model(client, first["id"])["aliases"] == []
    assert predict(client, "promoted@production", PROBES).json()["model_id"] == second["id"]
    scores = predict(client, "promoted@production", PROBES, route="predict_scores")
    assert scores.json()["score_kind"] == "decision_function"

    # Default alias is production; an unknown alias or name is a 404.
    default_alias = client.post(f"{MODELS}/{first['id']}/promote", json={})
    assert default_alias.status_code == 200
    assert "production" in default_alias.json()["aliases"]
    assert_error(predict(client, "promoted@staging", ["x"]), 404)
    assert_error(predict(client, "nobody@production", ["x"]), 404)
    assert_error(client.post(f"{MODELS}/mdl_missing/promote", json={"alias": "x"}), 404)
    bad_alias = client.post(f"{MODELS}/{first['id']}/promote", json={"alias": "no spaces!"})
    assert bad_alias.status_code == 422


def test_fit_on_unknown_dataset_is_404(client: httpx.Client) -> None:
    assert_error(submit_fit(client, "ds_0000000000000000", "orphan"), 404, "ds_0000000000000000")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        pytest.param({"params": {"C": -1}}, "params.C", id="bad-value"),
        pytest.param(
            {"params": {"penalty_strength": 3}}, "params.penalty_strength", id="unknown-key"
        ),
        pytest.param(
            {"model_type": "mnb", "params": {"C": 1.0}}, "params.C", id="key-of-another-type"
        ),
        pytest.param({"params": {"max_iter": "many"}}, "params.max_iter", id="wrong-type"),
        pytest.param({"model_type": "forest"}, "model_type", id="unknown-type"),
        pytest.param({"vectorizer": {"ngram_range": [3, 1]}}, "ngram_range", id="ngram"),
        pytest.param({"vectorizer": {"min_df": 0}}, "vectorizer.min_df", id="min-df"),
        pytest.param(
            {"vectorizer": {"stop_words": "english"}},
            "vectorizer.stop_words",
            id="unknown-vectorizer-key",
        ),
        pytest.param({"test_size": 1.5}, "test_size", id="test-size"),
        pytest.param({"name": "bad/name"}, "name", id="name"),
        pytest.param({"unexpected": 1}, "unexpected", id="extra-field"),
    ],
)
def test_bad_fit_parameters_are_422_naming_them(
    client: httpx.Client, small_dataset: dict[str, Any], body: dict[str, Any], needle: str
) -> None:
    request = {"name": "bad-params", "dataset_id": small_dataset["id"], **body}
    response = client.post(f"{MODELS}/fit", json=request)
    assert response.status_code == 422, response.text
    assert needle in response.text


def test_bad_predict_bodies_are_422(client: httpx.Client) -> None:
    for body in (
        {"model_id": "default-logreg", "texts": []},
        {"model_id": "default-logreg", "texts": "one string"},
        {"model_id": "default-logreg"},
        {"texts": ["hi"]},
    ):
        response = client.post(f"{MODELS}/predict", json=body)
        assert response.status_code == 422, (body, response.text)
    not_json = client.post(
        f"{MODELS}/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422


def test_a_fit_failing_inside_sklearn_fails_its_task_readably(
    client: httpx.Client, small_dataset: dict[str, Any]
) -> None:
    response = submit_fit(
        client, small_dataset["id"], "empty-vocabulary", vectorizer={"min_df": 0.99}
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    task = wait_task(client, accepted["task_id"])
    assert task["status"] == "failed", task
    error = task["error"].lower()
    assert "vocabulary" in error or "no terms remain" in error, error
    assert "Traceback" not in task["error"]
    assert task["finished_at"].endswith("Z")
    model = get_model(client, accepted["model_id"])
    assert model["status"] == "failed"
    assert_error(load(client, model["id"]), 409, "failed")
    assert client.get("/health").json()["status"] == "ok"
    # The pool still works.
    assert train(client, small_dataset["id"], "after-sklearn-failure")["status"] == "trained"
