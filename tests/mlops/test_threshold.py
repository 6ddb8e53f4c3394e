"""Decision thresholds on both databases with API tokens: the held-out operating curve, set by
value or by target precision/recall, used by predict and explain, kept per version through
promotes; bad input and roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from tests.backend.api_steps import MODELS, assert_error, load_ok, train
from tests.mlops.conftest import dataset_on, role_client, upload_dataset
from tests.servers import ServerProcess

TEXTS = ["you are a stupid idiot", "have a wonderful day", "the weather is fine", "shut up"]
VECTORIZER = {"ngram_range": [1, 2], "min_df": 2}


@pytest.fixture(scope="module")
def dataset_id(db_server: ServerProcess, small_csv: Path) -> str:
    return str(dataset_on(db_server, small_csv)["id"])


@pytest.fixture(scope="module")
def versions(editor: httpx.Client, dataset_id: str) -> list[dict[str, Any]]:
    """Two logreg versions of one name, both loaded."""
    trained = [
        train(editor, dataset_id, "threshold-logreg", model_type="logreg", vectorizer=VECTORIZER)
        for _ in range(2)
    ]
    return [load_ok(editor, model["id"]) for model in trained]


def set_cut(client: httpx.Client, model_id: str, **body: Any) -> httpx.Response:
    return client.post(f"{MODELS}/{model_id}/threshold", json=body)


def labels(client: httpx.Client, model_ref: str, texts: list[str] = TEXTS) -> list[Any]:
    response = client.post(f"{MODELS}/predict", json={"model_id": model_ref, "texts": texts})
    assert response.status_code == 200, response.text
    return list(response.json()["predictions"])


def test_the_curve_and_a_cut_by_value(
    versions: list[dict[str, Any]], editor: httpx.Client, viewer: httpx.Client
) -> None:
    model = versions[0]
    info = viewer.get(f"{MODELS}/{model['id']}/threshold")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["score_kind"] == "probability" and body["default_threshold"] == 0.5
    assert body["positive_label"] == 1 and body["threshold"] is None
    curve = body["curve"]
    assert len(curve["thresholds"]) == len(curve["precision"]) == len(curve["recall"])
    assert curve["thresholds"] == sorted(curve["thresholds"], reverse=True)
    assert curve["recall"][-1] == 1.0 and curve["flagged_per_1000"][-1] == 1000.0
    n_test = model["metrics"]["n_test"]
    assert sum(1 for _ in curve["thresholds"]) <= n_test

    # The highest cut flags only the top-scoring rows; the answer carries their figures.
    top = curve["thresholds"][0]
    answer = set_cut(editor, model["id"], threshold=top)
    assert answer.status_code == 200, answer.text
    metrics = answer.json()["metrics"]
    assert metrics["threshold"] == top
    assert metrics["precision"] == pytest.approx(curve["precision"][0])
    assert metrics["recall"] == pytest.approx(curve["recall"][0])
    assert metrics["flagged_per_1000"] == pytest.approx(curve["flagged_per_1000"][0])
    assert set(metrics["per_class"]) == {"0", "1"} and "macro_f1" in metrics
    assert metrics["roc_auc"] == model["metrics"]["roc_auc"]  # independent of the cut
    assert viewer.get(f"{MODELS}/{model['id']}/threshold").json()["threshold"] == top

    # Predict (and explain) decide at the stored cut, in every process at once.
    assert set_cut(editor, model["id"], threshold=0.0).status_code == 200
    assert labels(viewer, model["id"]) == [1, 1, 1, 1]
    explained = viewer.post(f"{MODELS}/explain", json={"model_id": model["id"], "texts": TEXTS})
    assert [item["label"] for item in explained.json()["explanations"]] == [1, 1, 1, 1]
    assert set_cut(editor, model["id"], threshold=1.0).status_code == 200
    assert labels(viewer, model["id"]) == [0, 0, 0, 0]


@pytest.mark.parametrize("target", ["target_precision", "target_recall"])
def test_a_cut_from_a_target(
    target: str, versions: list[dict[str, Any]], editor: httpx.Client, viewer: httpx.Client
) -> None:
    model = versions[1]
    answer = set_cut(editor, model["id"], **{target: 0.9})
    assert answer.status_code == 200, answer.text
    metrics = answer.json()["metrics"]
    name = target.removeprefix("target_")
    assert metrics[name] >= 0.9
    curve = viewer.get(f"{MODELS}/{model['id']}/threshold").json()["curve"]
    index = curve["thresholds"].index(metrics["threshold"])
    # The best cut reaching the target: one step further would miss it.
    step = index + 1 if name == "precision" else index - 1
    if 0 <= step < len(curve["thresholds"]):
        assert curve[name][step] < 0.9


def test_a_promote_carries_the_versions_own_cut(
    versions: list[dict[str, Any]], editor: httpx.Client, viewer: httpx.Client
) -> None:
    first, second = versions
    assert set_cut(editor, first["id"], threshold=0.0).status_code == 200
    assert set_cut(editor, second["id"], threshold=1.0).status_code == 200
    ref = "threshold-logreg@production"
    for model, expected in ((first, 1), (second, 0), (first, 1)):
        promoted = editor.post(f"{MODELS}/{model['id']}/promote", json={"alias": "production"})
        assert promoted.status_code == 200, promoted.text
        assert promoted.json()["metrics"]["threshold"] == (0.0 if expected else 1.0)
        assert labels(viewer, ref) == [expected] * len(TEXTS)


def test_a_decision_function_cut_is_any_number(
    editor: httpx.Client, viewer: httpx.Client, dataset_id: str
) -> None:
    model = load_ok(editor, train(editor, dataset_id, "threshold-svc", model_type="svc")["id"])
    info = viewer.get(f"{MODELS}/{model['id']}/threshold").json()
    assert info["score_kind"] == "decision_function" and info["default_threshold"] == 0.0
    assert set_cut(editor, model["id"], threshold=-50).status_code == 200
    assert labels(viewer, model["id"]) == [1] * len(TEXTS)


NAN_BODY = b'{"threshold": NaN}'


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, "exactly one"),
        ({"threshold": 0.5, "target_recall": 0.5}, "exactly one"),
        ({"target_precision": 0.8, "target_recall": 0.5}, "exactly one"),
        ({"target_precision": 1.5}, "target_precision"),
        ({"target_precision": -0.1}, "target_precision"),
        ({"target_recall": 2}, "target_recall"),
        ({"threshold": "high"}, "threshold"),
        ({"threshold": None}, "exactly one"),
        ({"threshold": 0.5, "alias": "x"}, "alias"),
        (NAN_BODY, "threshold"),
        (b'{"target_recall": Infinity}', "target_recall"),
    ],
)
def test_bad_bodies(
    body: Any, needle: str, versions: list[dict[str, Any]], editor: httpx.Client
) -> None:
    url = f"{MODELS}/{versions[0]['id']}/threshold"
    if isinstance(body, bytes):
        response = editor.post(url, content=body, headers={"content-type": "application/json"})
    else:
        response = editor.post(url, json=body)
    assert_error(response, 422, needle)


def test_refusals(
    db_server: ServerProcess,
    versions: list[dict[str, Any]],
    editor: httpx.Client,
    viewer: httpx.Client,
    small_csv: Path,
    tmp_path: Path,
) -> None:
    model_id = versions[0]["id"]
    assert_error(set_cut(editor, model_id, threshold=1.5), 400, "[0, 1]", "probabilities")
    assert_error(set_cut(editor, model_id, threshold=-0.2), 400, "[0, 1]")
    assert_error(set_cut(viewer, model_id, threshold=0.5), 403, "editor")
    with role_client(db_server, None) as anonymous:
        assert_error(set_cut(anonymous, model_id, threshold=0.5), 401)
        assert_error(anonymous.get(f"{MODELS}/{model_id}/threshold"), 401)
    assert_error(set_cut(editor, "mdl_nope", threshold=0.5), 404)
    assert_error(viewer.get(f"{MODELS}/mdl_nope/threshold"), 404)

    # Three classes: no threshold.
    frame = pd.read_csv(small_csv, keep_default_na=False)
    frame["label"] = [("a", "b", "c")[i % 3] for i in range(len(frame))]
    three = tmp_path / "three.csv"
    frame.to_csv(three, index=False)
    dataset = upload_dataset(editor, three)["id"]
    multi = train(editor, dataset, "threshold-three", model_type="mnb")
    assert_error(set_cut(editor, multi["id"], threshold=0.5), 400, "3 classes", "binary")
    assert_error(viewer.get(f"{MODELS}/{multi['id']}/threshold"), 400, "binary")

    # An uploaded model has no held-out scores: a value works, a target says why not.
    pipeline = Pipeline([("vectorizer", TfidfVectorizer()), ("classifier", LogisticRegression())])
    pipeline.fit(["good day", "nice one", "you idiot", "stupid fool"], [0, 0, 1, 1])
    with role_client(db_server, "admin") as admin:
        uploaded = admin.post(
            f"{MODELS}/upload",
            data={"name": "threshold-uploaded"},
            files={"file": ("m.skops", sio.dumps(pipeline))},
        ).json()
    assert viewer.get(f"{MODELS}/{uploaded['id']}/threshold").json()["curve"] is None
    assert_error(set_cut(editor, uploaded["id"], target_recall=0.5), 400, "no held-out scores")
    answer = set_cut(editor, uploaded["id"], threshold=0.3)
    assert answer.status_code == 200, answer.text
    assert answer.json()["metrics"]["threshold"] == 0.3


def test_evaluate_on_the_models_own_held_out_split(
    db_server: ServerProcess, editor: httpx.Client, viewer: httpx.Client, small_csv: Path
) -> None:
    dataset = upload_dataset(editor, small_csv)["id"]
    model = train(editor, dataset, "holdout-eval", model_type="mnb", vectorizer=VECTORIZER)
    body = {"model_id": model["id"], "split": "holdout"}
    answer = viewer.post(f"{MODELS}/evaluate", json=body)
    assert answer.status_code == 200, answer.text
    evaluation = answer.json()
    assert evaluation["split"] == "holdout" and evaluation["dataset_id"] == dataset
    for key in ("accuracy", "f1", "macro_f1", "n_test", "roc_auc", "average_precision"):
        assert evaluation["metrics"][key] == pytest.approx(model["metrics"][key]), key
    on_all = viewer.post(
        f"{MODELS}/evaluate", json={"model_id": model["id"], "dataset_id": dataset}
    )
    assert on_all.json()["metrics"]["n_test"] > evaluation["metrics"]["n_test"]
    assert on_all.json()["split"] == "dataset"

    assert_error(
        viewer.post(f"{MODELS}/evaluate", json={"model_id": model["id"]}), 422, "dataset_id"
    )
    assert_error(viewer.post(f"{MODELS}/evaluate", json={**body, "split": "train"}), 422, "split")
    assert editor.delete(f"/api/v1/datasets/{dataset}").status_code in (200, 204)
    assert_error(viewer.post(f"{MODELS}/evaluate", json=body), 400, "training data is gone")
