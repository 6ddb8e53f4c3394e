"""Feedback and drift routes on both databases, with roles: prediction ids in predict answers,
corrections by id or by text (the SQLite server logs no texts, the PostgreSQL one does), the
latest correction winning, the feedback dataset feeding the gated retrain, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.api_steps import MODELS, TASKS, load_ok, train, wait_task
from tests.mlops.conftest import dataset_on, keeps_texts, role_client
from tests.servers import ServerProcess

FEEDBACK = "/api/v1/feedback"
TEXTS = ["you are a wonderful person", "shut up you stupid idiot", "have a nice evening"]


@pytest.fixture(scope="module")
def watched_model(db_server: ServerProcess, small_csv: Path) -> Any:
    """A loaded model of this module's own, promoted to production (retrain needs a champion)."""
    with role_client(db_server, "editor") as editor:
        model = train(editor, dataset_on(db_server, small_csv)["id"], "watched")
        load_ok(editor, model["id"])
        promoted = editor.post(f"{MODELS}/{model['id']}/promote", json={"alias": "production"})
        assert promoted.status_code == 200, promoted.text
        yield model
        editor.post(f"{MODELS}/unload", json={"model_id": model["id"]})


def predicted_ids(
    client: httpx.Client, model_id: str, texts: list[str], route: str = "predict"
) -> tuple[list[str], dict[str, Any]]:
    response = client.post(f"{MODELS}/{route}", json={"model_id": model_id, "texts": texts})
    assert response.status_code == 200, response.text
    answer = response.json()
    ids = answer["prediction_ids"]
    assert len(ids) == len(texts) and len(set(ids)) == len(texts)
    return ids, answer


def feedback_for(client: httpx.Client, model_id: str) -> list[dict[str, Any]]:
    response = client.get(FEEDBACK, params={"model_id": model_id, "limit": 1000})
    assert response.status_code == 200, response.text
    return list(response.json())


def test_feedback_by_prediction_id(db_server: ServerProcess, watched_model: Any) -> None:
    model_id = watched_model["id"]
    with role_client(db_server, "viewer") as viewer:
        ids, answer = predicted_ids(viewer, model_id, TEXTS)
        scored_ids, _ = predicted_ids(viewer, model_id, TEXTS[:1], "predict_scores")
        assert not set(ids) & set(scored_ids)
        wrong = 1 - int(answer["predictions"][1])
        if keeps_texts(db_server):
            sent = viewer.post(FEEDBACK, json={"prediction_id": ids[1], "label": wrong})
        else:
            # No texts in the log: the correction is refused until the text comes with it,
            # and only the text that was predicted is accepted.
            refused = viewer.post(FEEDBACK, json={"prediction_id": ids[1], "label": wrong})
            assert refused.status_code == 409, refused.text
            assert "LOG_PREDICTION_TEXTS" in refused.json()["detail"]
            other = viewer.post(
                FEEDBACK, json={"prediction_id": ids[1], "label": wrong, "text": "another text"}
            )
            assert other.status_code == 400, other.text
            sent = viewer.post(
                FEEDBACK, json={"prediction_id": ids[1], "label": wrong, "text": TEXTS[1]}
            )
        assert sent.status_code == 201, sent.text
        first = sent.json()
        assert first["id"].startswith("fb_")
        assert (first["model_id"], first["prediction_id"], first["text"]) == (
            model_id,
            ids[1],
            TEXTS[1],
        )
        assert first["predicted"] == answer["predictions"][1] and first["disagrees"] is True
        assert first["role"] == "viewer"

        # A repeat for the same prediction replaces the label: the latest word wins.
        again = viewer.post(
            FEEDBACK,
            json={"prediction_id": ids[1], "text": TEXTS[1], "label": answer["predictions"][1]},
        )
        assert again.status_code == 201, again.text
        mine = [f for f in feedback_for(viewer, model_id) if f["prediction_id"] == ids[1]]
        assert len(mine) == 1 and mine[0]["label"] == answer["predictions"][1]
        assert mine[0]["disagrees"] is False

        # A predict_scores answer's id works too; its prediction is the highest score.
        by_scores = viewer.post(
            FEEDBACK, json={"prediction_id": scored_ids[0], "text": TEXTS[0], "label": wrong}
        )
        assert by_scores.status_code == 201, by_scores.text
        assert by_scores.json()["predicted"] in watched_model["classes"]


def test_feedback_by_text_and_listing(db_server: ServerProcess, watched_model: Any) -> None:
    model_id = watched_model["id"]
    classes = watched_model["classes"]
    with role_client(db_server, "viewer") as viewer:
        for label in (classes[0], classes[1]):  # the same text twice: one entry, the latest
            sent = viewer.post(
                FEEDBACK, json={"model_id": model_id, "text": "a brand new text", "label": label}
            )
            assert sent.status_code == 201, sent.text
            assert sent.json()["predicted"] is None and sent.json()["disagrees"] is None
        listed = [f for f in feedback_for(viewer, model_id) if f["text"] == "a brand new text"]
        assert [f["label"] for f in listed] == [classes[1]]
        # Labels may come as strings of the model's integer classes.
        as_string = viewer.post(
            FEEDBACK, json={"model_id": model_id, "text": "string label", "label": str(classes[0])}
        )
        assert as_string.status_code == 201 and as_string.json()["label"] == classes[0]

        everything = feedback_for(viewer, model_id)
        times = [f["created_at"] for f in everything]
        assert times == sorted(times, reverse=True)
        newest = viewer.get(FEEDBACK, params={"model_id": model_id, "since": times[0]})
        assert [f["id"] for f in newest.json()] == [everything[0]["id"]]
        assert viewer.get(FEEDBACK, params={"model_id": model_id, "limit": 1}).json() == [
            everything[0]
        ]
        summary = viewer.get(f"{FEEDBACK}/summary", params={"model_id": model_id})
        assert summary.status_code == 200, summary.text
        counts = summary.json()
        assert counts["n"] == len(everything)
        assert sum(counts["by_label"].values()) == counts["n"]
        assert counts["with_prediction"] == sum(f["predicted"] is not None for f in everything)
        assert counts["disagreed"] == sum(bool(f["disagrees"]) for f in everything)


def test_feedback_bad_input(db_server: ServerProcess, watched_model: Any) -> None:
    model_id = watched_model["id"]
    with role_client(db_server, "viewer") as viewer:
        cases: list[tuple[dict[str, Any], int]] = [
            ({"model_id": model_id, "text": "x\x00y", "label": 1}, 422),
            ({"model_id": "mdl\x00x", "text": "x", "label": 1}, 422),
            ({"model_id": model_id, "text": "x", "label": "no\x00pe"}, 422),
            ({"model_id": model_id, "text": "", "label": 1}, 422),
            ({"model_id": model_id, "label": 1}, 422),
            ({"text": "x", "label": 1}, 422),
            (
                {
                    "prediction_id": "pred_0123456789abcdef_0",
                    "model_id": model_id,
                    "text": "x",
                    "label": 1,
                },
                422,
            ),
            ({"prediction_id": "../../etc/passwd", "label": 1}, 422),
            ({"model_id": model_id, "text": "x", "label": 1, "extra": True}, 422),
            ({"model_id": model_id, "text": "x", "label": "toxic-ish"}, 400),
            ({"model_id": model_id, "text": "x", "label": [1]}, 422),
            ({"model_id": "mdl_nobody", "text": "x", "label": 1}, 404),
            ({"prediction_id": "pred_0123456789abcdef_0", "text": "x", "label": 1}, 404),
        ]
        for body, expected in cases:
            response = viewer.post(FEEDBACK, json=body)
            assert response.status_code == expected, (body, response.text)
            assert response.json()["detail"], body
        past_end = predicted_ids(viewer, model_id, TEXTS[:1])[0][0].rsplit("_", 1)[0] + "_7"
        assert (
            viewer.post(
                FEEDBACK, json={"prediction_id": past_end, "text": "x", "label": 1}
            ).status_code
            == 404
        )
        assert (
            viewer.post(
                FEEDBACK, content=b"{not json", headers={"content-type": "application/json"}
            ).status_code
            == 422
        )
        for query, expected in (
            ({"since": "yesterday"}, 422),
            ({"limit": 0}, 422),
            ({"limit": 5000}, 422),
            ({"model_id": "mdl_nobody"}, 404),
            ({"model_id": "mdl\x00x"}, 400),
            ({"since": "2026-13-45T00:00:00"}, 422),
        ):
            response = viewer.get(FEEDBACK, params=query)
            assert response.status_code == expected, (query, response.text)
        summary = viewer.get(f"{FEEDBACK}/summary", params={"model_id": "mdl_nobody"})
        assert summary.status_code == 404
        assert viewer.get(f"{FEEDBACK}/summary").status_code == 422


def test_feedback_roles(db_server: ServerProcess, watched_model: Any) -> None:
    body = {"model_id": watched_model["id"], "text": "roles", "label": watched_model["classes"][0]}
    with role_client(db_server, None) as anonymous:
        assert anonymous.post(FEEDBACK, json=body).status_code == 401
        assert anonymous.get(FEEDBACK).status_code == 401
        assert (
            anonymous.get(f"{FEEDBACK}/summary", params={"model_id": body["model_id"]}).status_code
            == 401
        )
        assert (
            anonymous.post(f"{FEEDBACK}/dataset", json={"model_id": body["model_id"]}).status_code
            == 401
        )
        assert anonymous.get(f"{MODELS}/{body['model_id']}/drift").status_code == 401
    with role_client(db_server, "viewer") as viewer:
        assert viewer.post(FEEDBACK, json=body).status_code == 201
        refused = viewer.post(f"{FEEDBACK}/dataset", json={"model_id": body["model_id"]})
        assert refused.status_code == 403 and "editor" in refused.json()["detail"]
        assert viewer.get(f"{MODELS}/{body['model_id']}/drift").status_code == 200


def test_feedback_dataset_feeds_the_gated_retrain(
    db_server: ServerProcess, watched_model: Any
) -> None:
    model_id = watched_model["id"]
    classes = watched_model["classes"]
    with role_client(db_server, "editor") as editor:
        lonely = editor.post(f"{FEEDBACK}/dataset", json={"model_id": "mdl_nobody"})
        assert lonely.status_code == 404
        for bad in ({"model_id": "x\x00"}, {}, {"model_id": model_id, "more": 1}):
            assert editor.post(f"{FEEDBACK}/dataset", json=bad).status_code == 422, bad
        corrections = [
            ("you are a moron and a liar", 1),
            ("what a lovely photo", 0),
            ("get lost you pathetic loser", 1),
            ("thanks for the help", 0),
            ("nobody wants you here idiot", 1),
            ("see you at the meeting", 0),
        ]
        for text, label in corrections:
            sent = editor.post(
                FEEDBACK, json={"model_id": model_id, "text": text, "label": classes[label]}
            )
            assert sent.status_code == 201, sent.text
        built = editor.post(f"{FEEDBACK}/dataset", json={"model_id": model_id})
        assert built.status_code == 201, built.text
        dataset = built.json()
        assert dataset["id"].startswith("ds_") and dataset["rows"] >= len(corrections)
        assert set(dataset["classes"]) == {str(c) for c in classes}
        rows = editor.get(f"/api/v1/datasets/{dataset['id']}/download").text
        assert "you are a moron and a liar" in rows

        retrain = editor.post(
            f"{MODELS}/retrain",
            json={
                "name": watched_model["name"],
                "dataset_id": dataset["id"],
                "metric": "f1",
                "min_improvement": 0.0,
            },
        )
        assert retrain.status_code == 202, retrain.text
        task = wait_task(editor, retrain.json()["task_id"])
        assert task["status"] == "succeeded", task
        assert task["result"]["decision"] in {"promoted", "kept"}
        assert {"champion", "challenger"} <= set(task["result"])
        assert editor.get(f"{TASKS}/{task['id']}").json()["kind"] == "retrain"


def test_drift_route_bad_input(db_server: ServerProcess, watched_model: Any) -> None:
    model_id = watched_model["id"]
    with role_client(db_server, "viewer") as viewer:
        report = viewer.get(f"{MODELS}/{model_id}/drift")
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["model_id"] == model_id and body["status"] in {"ok", "drift", "too_few"}
        assert {"score", "length", "oov_share", "predicted_class"} <= set(body["features"])
        for feature in body["features"].values():
            assert {"psi", "reference", "current"} <= set(feature)
        cases = [
            ({"since": "yesterday"}, 422),
            ({"until": "2026-02-30T00:00:00"}, 422),
            ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 400),
            ({"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 400),
            ({"until": "0001-01-01T00:00:00"}, 400),
        ]
        for query, expected in cases:
            response = viewer.get(f"{MODELS}/{model_id}/drift", params=query)
            assert response.status_code == expected, (query, response.text)
            assert response.json()["detail"]
        assert viewer.get(f"{MODELS}/mdl_nobody/drift").status_code == 404
        assert viewer.get(f"{MODELS}/mdl%00x/drift").status_code in {400, 404}
        assert viewer.get(f"{MODELS}/watched@nothing/drift").status_code == 404
        by_alias = viewer.get(f"{MODELS}/watched@production/drift")
        assert by_alias.status_code == 200, by_alias.text
        empty = viewer.get(
            f"{MODELS}/{model_id}/drift",
            params={"since": "2001-01-01T00:00:00Z", "until": "2001-01-02T00:00Z"},
        )
        assert empty.status_code == 200
        assert (empty.json()["status"], empty.json()["n"]) == ("too_few", 0)


def test_uploaded_model_has_no_drift_reference(
    db_server: ServerProcess, watched_model: Any
) -> None:
    with role_client(db_server, "admin") as admin:
        payload = admin.get(f"{MODELS}/{watched_model['id']}/download")
        assert payload.status_code == 200
        uploaded = admin.post(
            f"{MODELS}/upload",
            data={"name": "foreign"},
            files={"file": ("m.skops", payload.content)},
        )
        assert uploaded.status_code == 200, uploaded.text
        response = admin.get(f"{MODELS}/{uploaded.json()['id']}/drift")
        assert response.status_code == 409, response.text
        assert "retrain" in response.json()["detail"]
        admin.delete(f"{MODELS}/{uploaded.json()['id']}")
