"""The prediction log, on both databases: rows written by a background thread, newest first,
with hashes and predictions per text, the caller's role, and texts only when configured."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.api_steps import MODELS, load_ok, train
from tests.mlops.conftest import dataset_on, keeps_texts, poll, role_client
from tests.servers import ServerProcess

PREDICTIONS = "/api/v1/predictions"
TEXTS = ["you are a wonderful person", "shut up you stupid idiot", "привет, как дела?"]


@pytest.fixture(scope="module")
def logged_model(db_server: ServerProcess, small_csv: Path) -> Any:
    """A loaded model of this module's own, so its log holds only this module's calls."""
    with role_client(db_server, "editor") as editor:
        model = train(editor, dataset_on(db_server, small_csv)["id"], "logged")
        load_ok(editor, model["id"])
        yield model
        editor.post(f"{MODELS}/unload", json={"model_id": model["id"]})


def log_rows(client: httpx.Client, **query: Any) -> list[dict[str, Any]]:
    response = client.get(PREDICTIONS, params=query)
    assert response.status_code == 200, response.text
    return list(response.json())


def wait_rows(client: httpx.Client, count: int, **query: Any) -> list[dict[str, Any]]:
    """The log is written in batches by a thread: poll until `count` rows are there."""
    rows = poll(lambda: (found := log_rows(client, **query)) and len(found) >= count and found)
    assert rows, f"fewer than {count} log rows for {query}: {log_rows(client, **query)}"
    return list(rows)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_predictions_are_logged(db_server: ServerProcess, logged_model: dict[str, Any]) -> None:
    model_id = logged_model["id"]
    with role_client(db_server, "viewer") as viewer:
        predicted = viewer.post(f"{MODELS}/predict", json={"model_id": model_id, "texts": TEXTS})
        assert predicted.status_code == 200, predicted.text
        time.sleep(0.02)  # distinct times, so `since` can tell the two calls apart
        scored = viewer.post(
            f"{MODELS}/predict_scores", json={"model_id": model_id, "texts": TEXTS[:2]}
        )
        assert scored.status_code == 200, scored.text
        rows = wait_rows(viewer, 2, model_id=model_id, limit=10)

    assert len(rows) == 2, rows
    newest, oldest = rows
    assert newest["created_at"] >= oldest["created_at"]
    assert (newest["endpoint"], newest["n_texts"]) == ("predict_scores", 2)
    assert (oldest["endpoint"], oldest["n_texts"]) == ("predict", 3)
    for row in rows:
        assert row["model_id"] == model_id
        assert row["role"] == "viewer"
        assert isinstance(row["latency_ms"], float) and row["latency_ms"] >= 0
        assert row["created_at"].endswith("Z")
    assert [item["sha256"] for item in oldest["items"]] == [sha256(t) for t in TEXTS]
    assert [item["prediction"] for item in oldest["items"]] == predicted.json()["predictions"]
    classes = [str(c) for c in scored.json()["classes"]]
    for item, scores in zip(newest["items"], scored.json()["scores"], strict=True):
        assert item["prediction"] == pytest.approx(dict(zip(classes, scores, strict=True)))
    for row, texts in ((oldest, TEXTS), (newest, TEXTS[:2])):
        if keeps_texts(db_server):
            assert [item["text"] for item in row["items"]] == texts
        else:
            assert all("text" not in item for item in row["items"]), row
            assert not any(text in str(row) for text in texts)


def test_log_filters(db_server: ServerProcess, logged_model: dict[str, Any]) -> None:
    model_id = logged_model["id"]
    with role_client(db_server, "editor") as editor:
        for text in ("first call", "second call"):
            response = editor.post(
                f"{MODELS}/predict", json={"model_id": model_id, "texts": [text]}
            )
            assert response.status_code == 200, response.text
            assert poll(
                lambda text=text: (
                    [
                        row["items"][0]["sha256"]
                        for row in log_rows(editor, model_id=model_id, limit=1)
                    ]
                    == [sha256(text)]
                )
            ), f"{text!r} was never logged"
            time.sleep(0.02)  # distinct times, so `since` can tell the two calls apart
        latest = wait_rows(editor, 2, model_id=model_id, limit=2)
        assert [row["items"][0]["sha256"] for row in latest] == [
            sha256("second call"),
            sha256("first call"),
        ]
        assert [row["role"] for row in latest] == ["editor", "editor"]

        newest = log_rows(editor, model_id=model_id, limit=1)
        assert [row["id"] for row in newest] == [latest[0]["id"]]
        since_newest = log_rows(editor, model_id=model_id, since=latest[0]["created_at"])
        assert [row["id"] for row in since_newest] == [latest[0]["id"]]
        since_older = log_rows(editor, model_id=model_id, since=latest[1]["created_at"])
        assert [row["id"] for row in since_older] == [latest[0]["id"], latest[1]["id"]]
        # The same moment written in another time zone means the same thing.
        moment = datetime.fromisoformat(latest[0]["created_at"].replace("Z", "+00:00"))
        in_berlin = moment.astimezone(timezone(timedelta(hours=1))).isoformat()
        assert [r["id"] for r in log_rows(editor, model_id=model_id, since=in_berlin)] == [
            latest[0]["id"]
        ]
        assert log_rows(editor, model_id=model_id, since="2999-01-01T00:00:00Z") == []
        assert log_rows(editor, model_id="mdl-nobody") == []
        everything = log_rows(editor, limit=1000)
        assert {row["model_id"] for row in everything} >= {model_id}
        assert [r["created_at"] for r in everything] == sorted(
            (r["created_at"] for r in everything), reverse=True
        )

        assert editor.get(PREDICTIONS, params={"limit": 0}).status_code == 422
        assert editor.get(PREDICTIONS, params={"since": "yesterday"}).status_code == 422
    with role_client(db_server, None) as anonymous:
        assert anonymous.get(PREDICTIONS).status_code == 401


def test_failed_predicts_are_not_logged(
    db_server: ServerProcess, logged_model: dict[str, Any]
) -> None:
    with role_client(db_server, "viewer") as viewer:
        before = log_rows(viewer, limit=1000)
        response = viewer.post(f"{MODELS}/predict", json={"model_id": "mdl-nobody", "texts": ["x"]})
        assert response.status_code == 404
        probe = viewer.post(
            f"{MODELS}/predict", json={"model_id": logged_model["id"], "texts": ["probe"]}
        )
        assert probe.status_code == 200
        rows = wait_rows(viewer, len(before) + 1, limit=1000)
    assert len(rows) == len(before) + 1
    assert rows[0]["items"][0]["sha256"] == sha256("probe")
