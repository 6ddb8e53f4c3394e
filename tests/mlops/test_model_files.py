"""Safe model files: skops download and upload, untrusted types and damaged files refused with
a 400 (never a 500), and stored model files checked against their sha256 when loaded."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from tests.backend.api_steps import MODELS, PROBES, assert_error, get_model, load, load_ok, train
from tests.mlops.conftest import dataset_on, role_client
from tests.servers import ServerProcess


class AlwaysToxic:
    """A classifier of our own: importable on the server, and still not to be trusted."""

    classes_ = np.array([0, 1])

    def predict(self, texts: list[str]) -> np.ndarray:
        return np.ones(len(texts), dtype=int)


@pytest.fixture(scope="module")
def admin(server: ServerProcess) -> Any:
    with role_client(server, "admin") as client:
        yield client


@pytest.fixture(scope="module")
def original(admin: httpx.Client, server: ServerProcess, small_csv: Path) -> dict[str, Any]:
    return train(
        admin,
        dataset_on(server, small_csv)["id"],
        "files-original",
        params={"C": 3.0},
        vectorizer={"ngram_range": [1, 2]},
    )


@pytest.fixture(scope="module")
def downloaded(admin: httpx.Client, original: dict[str, Any]) -> bytes:
    response = admin.get(f"{MODELS}/{original['id']}/download")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert "files-original-v1.skops" in response.headers["content-disposition"]
    return response.content


def upload(client: httpx.Client, payload: bytes, name: str) -> httpx.Response:
    return client.post(
        f"{MODELS}/upload",
        data={"name": name},
        files={"file": ("model.skops", payload, "application/octet-stream")},
    )


def model_answers(client: httpx.Client, model_id: str) -> tuple[list[Any], list[list[float]]]:
    predicted = client.post(f"{MODELS}/predict", json={"model_id": model_id, "texts": PROBES})
    scored = client.post(f"{MODELS}/predict_scores", json={"model_id": model_id, "texts": PROBES})
    assert predicted.status_code == 200, predicted.text
    assert scored.status_code == 200, scored.text
    return predicted.json()["predictions"], scored.json()["scores"]


def test_download_is_a_skops_pipeline(downloaded: bytes) -> None:
    assert zipfile.is_zipfile(io.BytesIO(downloaded))
    assert sio.get_untrusted_types(data=downloaded) == []
    pipeline = sio.loads(downloaded)
    assert isinstance(pipeline, Pipeline)
    assert pipeline.predict(PROBES).shape == (len(PROBES),)


def test_upload_round_trip(
    admin: httpx.Client, original: dict[str, Any], downloaded: bytes
) -> None:
    response = upload(admin, downloaded, "files-reuploaded")
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["name"] == "files-reuploaded" and info["version"] == 1
    assert info["status"] == "trained" and info["loaded"] is False
    assert info["model_type"] == "logreg"
    assert info["classes"] == [0, 1]
    assert info["params"]["C"] == 3.0
    assert info["vectorizer"]["ngram_range"] == [1, 2]
    assert get_model(admin, info["id"])["id"] == info["id"]
    try:
        load_ok(admin, original["id"])
        load_ok(admin, info["id"])
        expected_predictions, expected_scores = model_answers(admin, original["id"])
        predictions, scores = model_answers(admin, info["id"])
        assert predictions == expected_predictions
        np.testing.assert_allclose(scores, expected_scores)
    finally:
        for model_id in (original["id"], info["id"]):
            admin.post(f"{MODELS}/unload", json={"model_id": model_id})


def test_foreign_types_are_refused(admin: httpx.Client) -> None:
    with_eval = Pipeline(
        [
            ("vectorizer", TfidfVectorizer()),
            ("to_dense", FunctionTransformer(eval)),
            ("classifier", LogisticRegression()),
        ]
    )
    assert_error(upload(admin, sio.dumps(with_eval), "files-eval"), 400, "builtins.eval")
    custom = sio.dumps(AlwaysToxic())
    assert_error(upload(admin, custom, "files-custom"), 400, f"{__name__}.AlwaysToxic")
    names = [m["name"] for m in admin.get(MODELS).json()]
    assert "files-eval" not in names and "files-custom" not in names


def test_damaged_and_foreign_files_are_refused(admin: httpx.Client, downloaded: bytes) -> None:
    flipped = bytearray(downloaded)
    for position in range(len(flipped) // 3, len(flipped) // 3 + 64):
        flipped[position] ^= 0xFF
    truncated = downloaded[: len(downloaded) // 2]
    pickled = pickle.dumps(sio.loads(downloaded))
    not_a_classifier = sio.dumps(TfidfVectorizer().fit(["alpha beta", "gamma delta"]))
    unfitted = sio.dumps(
        Pipeline([("vectorizer", TfidfVectorizer()), ("classifier", LogisticRegression())])
    )
    for label, payload in [
        ("flipped", bytes(flipped)),
        ("truncated", truncated),
        ("pickle", pickled),
        ("empty", b""),
        ("text", b"hello, world"),
        ("not a classifier", not_a_classifier),
        ("unfitted", unfitted),
    ]:
        response = upload(admin, payload, "files-damaged")
        assert response.status_code == 400, f"{label}: {response.status_code} {response.text}"
        assert "Traceback" not in response.text
    assert "files-damaged" not in [m["name"] for m in admin.get(MODELS).json()]


def test_upload_needs_a_valid_name(admin: httpx.Client, downloaded: bytes) -> None:
    assert upload(admin, downloaded, "../escape").status_code == 422
    assert (
        admin.post(
            f"{MODELS}/upload", files={"file": ("m.skops", downloaded, "application/octet-stream")}
        ).status_code
        == 422
    )


def test_altered_model_file_is_refused_on_load(
    admin: httpx.Client, server: ServerProcess, original: dict[str, Any], downloaded: bytes
) -> None:
    """A model file swapped on disk (here: for another valid model) no longer matches its
    recorded sha256; a process that has never loaded it refuses to."""
    victim = upload(admin, downloaded, "files-victim")
    assert victim.status_code == 200, victim.text
    victim_id = victim.json()["id"]
    artifact = Path(server.env["DATA_DIR"]) / "models" / f"{victim_id}.skops"
    assert artifact.is_file()
    other = sio.dumps(
        Pipeline([("vectorizer", TfidfVectorizer()), ("classifier", LogisticRegression())]).fit(
            ["nice day", "you idiot", "lovely", "stupid"], [0, 1, 0, 1]
        )
    )
    artifact.write_bytes(other)

    assert_error(load(admin, victim_id), 409, "sha256")
    assert get_model(admin, victim_id)["loaded"] is False
    dataset = admin.get("/api/v1/datasets").json()[0]["id"]
    evaluated = admin.post(
        f"{MODELS}/evaluate", json={"model_id": victim_id, "dataset_id": dataset}
    )
    assert_error(evaluated, 409, "sha256")
