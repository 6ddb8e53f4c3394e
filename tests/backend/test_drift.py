"""Drift with real shifted traffic, on both databases: the default English model fed English
comments like its training data stays `ok`; fed Russian comments it turns `drift`, with the
out-of-vocabulary share as the feature that moved most. /metrics shows the status."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pandas as pd

from backend.services.prediction_log import FEATURES_FLUSH_S, FEATURES_GAP_S
from tests.backend.api_steps import MODELS
from tests.conftest import TOXIC_RU
from tests.servers import REPO_ROOT

MODEL = "default-logreg"
# What the default models learn from (backend/services/defaults.py).
TRAINING_LIKE = REPO_ROOT / "backend" / "sample_data" / "toxic_en_wiki.csv"
N = 400


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def replay(client: httpx.Client, texts: list[str], route: str) -> None:
    for start in range(0, len(texts), 8):
        response = client.post(
            f"{MODELS}/{route}", json={"model_id": MODEL, "texts": texts[start : start + 8]}
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["prediction_ids"]) == len(texts[start : start + 8])


def drift_when_logged(client: httpx.Client, since: float, until: float) -> dict[str, Any]:
    """The report for [since, until) once the log writer has written all N predictions."""
    deadline = time.monotonic() + 60  # features are written every 5 s
    while True:
        response = client.get(
            f"{MODELS}/{MODEL}/drift", params={"since": iso(since), "until": iso(until)}
        )
        assert response.status_code == 200, response.text
        report = response.json()
        if report["n"] >= N or time.monotonic() > deadline:
            return dict(report)
        time.sleep(0.3)


def texts_of(path: Any, seed: int) -> list[str]:
    frame = pd.read_csv(path, keep_default_na=False)
    return frame["text"].sample(N, random_state=seed).astype(str).tolist()


def test_default_model_drifts_on_russian_traffic(client: httpx.Client) -> None:
    english, russian = texts_of(TRAINING_LIKE, 7), texts_of(TOXIC_RU, 7)
    # Drift features are written as one row per model per FEATURES_FLUSH_S, dated by its first
    # call: earlier tests' predictions on this shared server must close their row first.
    time.sleep(FEATURES_FLUSH_S + 1)

    started = time.time()
    replay(client, english, "predict")  # the hot path (fast_predict) answers these
    time.sleep(2.0)
    middle = time.time()
    replay(client, russian, "predict_scores")
    time.sleep(2.0)
    ended = time.time()

    calm = drift_when_logged(client, started, middle)
    assert calm["n"] == N, calm
    assert calm["status"] == "ok", {k: v["psi"] for k, v in calm["features"].items()}
    assert {"score", "length", "oov_share", "predicted_class"} <= set(calm["features"])
    assert all(f["psi"] < calm["threshold"] for f in calm["features"].values())
    assert sum(h["n"] for h in calm["hourly"]) == N

    shifted = drift_when_logged(client, middle, ended)
    psi = {name: feature["psi"] for name, feature in shifted["features"].items()}
    print(
        "\nPSI english",
        {k: round(v["psi"], 3) for k, v in calm["features"].items()},
        "\nPSI russian",
        {k: round(v, 3) for k, v in psi.items()},
        "\nOOV mean",
        calm["features"]["oov_share"]["current_mean"],
        shifted["features"]["oov_share"]["current_mean"],
    )
    assert shifted["n"] == N, shifted
    assert shifted["status"] == "drift", psi
    assert shifted["most_moved"] == "oov_share" == max(psi, key=psi.__getitem__), psi
    oov = shifted["features"]["oov_share"]
    assert oov["current_mean"] > 0.8 > calm["features"]["oov_share"]["current_mean"]
    assert abs(sum(oov["reference"]) - 1) < 1e-6 and abs(sum(oov["current"]) - 1) < 1e-6

    few = client.get(
        f"{MODELS}/{MODEL}/drift", params={"since": iso(middle), "until": iso(middle + 0.001)}
    )
    assert few.json()["status"] == "too_few"


def test_metrics_show_drift_per_loaded_model(client: httpx.Client) -> None:
    client.post(f"{MODELS}/predict", json={"model_id": MODEL, "texts": ["hello there"]})
    lines = client.get("/metrics").text.splitlines()
    status = [line for line in lines if line.startswith("model_drift_status{")]
    for model_id in ("default-logreg", "default-mnb", "default-svc"):
        mine = [line for line in status if f'model_id="{model_id}"' in line]
        assert len(mine) == 3, status  # ok, drift, too_few: exactly one is 1
        assert sum(float(line.rsplit(" ", 1)[1]) for line in mine) == 1.0
    psi = [line for line in lines if line.startswith("model_drift_psi{")]
    assert any('model_id="default-logreg"' in p and 'feature="oov_share"' in p for p in psi)


def test_a_burst_reaches_drift_once_traffic_pauses(client: httpx.Client) -> None:
    """Steady traffic coalesces features into FEATURES_FLUSH_S rows, but a burst followed by a
    pause must not wait that long: a moderator who predicts and opens Monitor sees it."""
    # Calls less than FEATURES_GAP_S apart share a row dated by its first call: let the earlier
    # tests' row close so this burst's row starts inside the window.
    time.sleep(FEATURES_GAP_S + 0.5)
    started = time.time()
    replay(client, ["a short burst of monitored traffic"] * 8, "predict")
    ended = time.time()
    deadline = time.monotonic() + FEATURES_FLUSH_S - 1
    while True:
        response = client.get(
            f"{MODELS}/{MODEL}/drift", params={"since": iso(started), "until": iso(ended + 1)}
        )
        assert response.status_code == 200, response.text
        if response.json()["n"] >= 8 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert response.json()["n"] == 8, response.json()
