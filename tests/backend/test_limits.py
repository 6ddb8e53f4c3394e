"""Limits on a dedicated server: upload size, predict batch, loaded models, queued fits;
and remove_all, which would disturb the shared backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.backend.api_steps import (
    DEFAULT_IDS,
    MODELS,
    SLOW_FIT,
    assert_error,
    cancel,
    fit_ok,
    get_model,
    load,
    load_ok,
    predict,
    submit_fit,
    train,
    unload,
    upload,
    upload_ok,
    wait_fitting,
    wait_task,
)
from tests.conftest import TOXIC_EN
from tests.servers import ServerProcess, copy_data_dir, start_backend

LIMITS = {
    "MAX_UPLOAD_MB": "1",
    "MAX_PREDICT_BATCH": "5",
    "MAX_LOADED_MODELS": "4",
    "MAX_QUEUED_FITS": "2",
}


@pytest.fixture(scope="module")
def limited(
    seed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("limits") / "data"
    copy_data_dir(seed_data_dir, data_dir)
    server = start_backend(data_dir, **LIMITS)
    yield server
    server.stop()


@pytest.fixture()
def http(limited: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=limited.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def dataset(limited: ServerProcess, small_csv: Path) -> dict[str, Any]:
    assert small_csv.stat().st_size < 1024 * 1024
    with httpx.Client(base_url=limited.url, timeout=60) as client:
        return upload_ok(client, small_csv)


def test_uploads_over_max_upload_mb_are_413(http: httpx.Client, small_csv: Path) -> None:
    whole = TOXIC_EN.read_bytes()
    assert len(whole) > 2 * 1024 * 1024
    assert_error(upload(http, whole), 413, "MB")
    # Just over the limit, inside the allowance for multipart framing: caught while streaming.
    lines = whole.splitlines(keepends=True)
    size, cut = 0, 0
    while size <= 1.3 * 1024 * 1024:
        size += len(lines[cut])
        cut += 1
    assert_error(upload(http, b"".join(lines[:cut])), 413, "MAX_UPLOAD_MB")
    assert upload(http, small_csv).status_code == 201  # under the limit: fine
    assert http.get("/health").status_code == 200


def test_predict_over_max_predict_batch_is_413(http: httpx.Client) -> None:
    for route in ("predict", "predict_scores"):
        assert predict(http, "default-logreg", ["ok"] * 5, route).status_code == 200
        assert_error(
            predict(http, "default-logreg", ["too many"] * 6, route), 413, "MAX_PREDICT_BATCH"
        )


def test_loading_past_max_loaded_models_is_409(http: httpx.Client, dataset: dict[str, Any]) -> None:
    first = train(http, dataset["id"], "limit-first")
    second = train(http, dataset["id"], "limit-second")
    load_ok(http, first["id"])  # 3 defaults + 1 = MAX_LOADED_MODELS
    assert_error(load(http, second["id"]), 409, "MAX_LOADED_MODELS")
    assert get_model(http, second["id"])["loaded"] is False
    assert load(http, first["id"]).status_code == 200  # already loaded: a no-op, not a 409
    assert unload(http, first["id"]).status_code == 200
    load_ok(http, second["id"])
    assert_error(load(http, first["id"]), 409, "MAX_LOADED_MODELS")
    assert unload(http, second["id"]).status_code == 200


def test_fits_past_max_queued_fits_are_429(http: httpx.Client, limited: ServerProcess) -> None:
    # Under 1 MB, yet slow enough with SLOW_FIT to keep the only worker busy for a while.
    frame = pd.read_csv(TOXIC_EN).head(9000)
    content = frame.to_csv(index=False).encode()
    busy_data = upload_ok(http, content)
    busy = fit_ok(http, busy_data["id"], "queue-busy", **SLOW_FIT)
    wait_fitting(http, busy["task_id"])
    waiting = [fit_ok(http, busy_data["id"], f"queue-wait-{i}") for i in range(2)]
    assert_error(submit_fit(http, busy_data["id"], "queue-refused"), 429, "MAX_QUEUED_FITS")
    assert "queue-refused" not in [m["name"] for m in http.get(MODELS).json()]

    assert cancel(http, waiting[0]["task_id"]).status_code == 200
    accepted = fit_ok(http, busy_data["id"], "queue-accepted")  # room again
    for task in (busy, waiting[1], accepted):
        cancel(http, task["task_id"])
    for task in (busy, *waiting, accepted):
        assert wait_task(http, task["task_id"])["status"] == "cancelled"


def test_remove_all_keeps_the_default_models(
    http: httpx.Client, limited: ServerProcess, dataset: dict[str, Any]
) -> None:
    extra = train(http, dataset["id"], "remove-all-me")
    load_ok(http, extra["id"])
    models_dir = Path(limited.env["DATA_DIR"]) / "models"
    before = {m["id"] for m in http.get(MODELS).json()}
    assert extra["id"] in before
    assert (models_dir / f"{extra['id']}.skops").is_file()

    response = http.post(f"{MODELS}/remove_all")
    assert response.status_code == 200, response.text
    removed = set(response.json()["removed"])
    assert removed == before - set(DEFAULT_IDS)
    after = {m["id"] for m in http.get(MODELS).json()}
    assert after == set(DEFAULT_IDS)
    assert sorted(p.name for p in models_dir.glob("*.skops")) == sorted(
        f"{d}.skops" for d in DEFAULT_IDS
    )
    assert_error(predict(http, extra["id"], ["gone"]), 404)
    for default_id in DEFAULT_IDS:
        assert predict(http, default_id, ["still serving"]).status_code == 200
    again = http.post(f"{MODELS}/remove_all")
    assert again.status_code == 200 and again.json() == {"removed": []}
