"""Aliases and the retrain gate, on both databases: `name@production` resolves at every moment
while it moves, and a retrain moves it only when the challenger wins on held-out new data."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.api_steps import (
    MODELS,
    assert_error,
    get_model,
    load_ok,
    train,
    unload,
    wait_task,
)
from tests.mlops.conftest import dataset_on, role_client
from tests.servers import ServerProcess

PROBES = ["you are a wonderful person", "shut up you stupid idiot", "the weather is fine"]


@pytest.fixture()
def editor(db_server: ServerProcess) -> Any:
    with role_client(db_server, "editor") as client:
        yield client
        # Keep the shared server under MAX_LOADED_MODELS: unload what these tests loaded.
        for model in client.get(MODELS).json():
            if model["loaded"] and model["name"].startswith(("alias-", "gate-")):
                assert unload(client, model["id"]).status_code == 200


def promote(client: httpx.Client, model_id: str, alias: str = "production") -> dict[str, Any]:
    response = client.post(f"{MODELS}/{model_id}/promote", json={"alias": alias})
    assert response.status_code == 200, response.text
    assert alias in response.json()["aliases"]
    return dict(response.json())


def test_alias_moves_atomically_under_concurrent_predicts(
    db_server: ServerProcess, editor: httpx.Client, small_csv: Path
) -> None:
    dataset = dataset_on(db_server, small_csv)["id"]
    first = train(editor, dataset, "alias-race", params={"C": 1.0})
    second = train(editor, dataset, "alias-race", params={"C": 10.0})
    assert (first["version"], second["version"]) == (1, 2)
    both = {first["id"], second["id"]}
    for model_id in both:
        load_ok(editor, model_id)
    promote(editor, first["id"])

    stop = threading.Event()
    answers: Counter[tuple[int, str]] = Counter()
    lock = threading.Lock()
    errors: list[str] = []

    def predict_forever() -> None:
        with role_client(db_server, "viewer") as viewer:
            while not stop.is_set():
                response = viewer.post(
                    f"{MODELS}/predict", json={"model_id": "alias-race@production", "texts": PROBES}
                )
                model_id = (
                    response.json().get("model_id", "")
                    if response.status_code == 200
                    else response.text
                )
                with lock:
                    answers[response.status_code, model_id] += 1

    threads = [threading.Thread(target=predict_forever) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(16):
            target = second if round_ % 2 == 0 else first
            moved = promote(editor, target["id"])
            other = first if target is second else second
            if "production" in get_model(editor, other["id"])["aliases"]:
                errors.append(f"round {round_}: both versions hold production")
            # Read-your-writes: right after the move the alias serves the new holder.
            response = editor.post(
                f"{MODELS}/predict", json={"model_id": "alias-race@production", "texts": PROBES}
            )
            assert response.status_code == 200, response.text
            if response.json()["model_id"] != moved["id"]:
                errors.append(f"round {round_}: served {response.json()['model_id']}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not errors, errors
    statuses = {status for status, _ in answers}
    assert statuses == {200}, dict(answers)
    assert {model_id for _, model_id in answers} <= both, dict(answers)
    assert sum(answers.values()) >= 16  # the predicts really ran alongside the moves
    # Round 15 moved production back to the first version.
    assert get_model(editor, first["id"])["aliases"] == ["production"]
    assert get_model(editor, second["id"])["aliases"] == []


def retrain(client: httpx.Client, name: str, dataset_id: str, **body: Any) -> httpx.Response:
    return client.post(f"{MODELS}/retrain", json={"name": name, "dataset_id": dataset_id, **body})


def finished_retrain(
    client: httpx.Client, name: str, dataset_id: str, **body: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    response = retrain(client, name, dataset_id, **body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    task = wait_task(client, accepted["task_id"])
    assert task["status"] == "succeeded", task
    assert task["kind"] == "retrain"
    assert task["model_id"] == accepted["model_id"]
    return accepted, task["result"]


def assert_scores(result: dict[str, Any], champion_id: str, challenger_id: str) -> None:
    assert result["metric"] == "f1"
    assert result["champion"]["model_id"] == champion_id
    assert result["challenger"]["model_id"] == challenger_id
    for side in ("champion", "challenger"):
        score = result[side]["score"]
        assert isinstance(score, float) and 0 <= score <= 1, result
        assert result[side]["metrics"]["f1"] == pytest.approx(score)
    assert result["holdout_rows"] > 0


def test_a_better_challenger_is_promoted(
    db_server: ServerProcess, editor: httpx.Client, tiny_csv: Path, fresh_csv: Path
) -> None:
    """A champion trained on 60 rows loses to one trained on them plus 2,400 new rows."""
    champion = train(editor, dataset_on(db_server, tiny_csv)["id"], "gate-up")
    load_ok(editor, champion["id"])
    promote(editor, champion["id"])
    accepted, result = finished_retrain(editor, "gate-up", dataset_on(db_server, fresh_csv)["id"])

    assert result["decision"] == "promoted", result
    assert_scores(result, champion["id"], accepted["model_id"])
    assert result["challenger"]["score"] > result["champion"]["score"]
    challenger = get_model(editor, accepted["model_id"])
    assert challenger["name"] == "gate-up" and challenger["version"] == 2
    assert challenger["status"] == "trained"
    assert challenger["aliases"] == ["production"]
    assert get_model(editor, champion["id"])["aliases"] == []
    # The champion was serving, so the challenger serves in its place.
    assert challenger["loaded"] is True
    with role_client(db_server, "viewer") as viewer:
        answer = viewer.post(
            f"{MODELS}/predict", json={"model_id": "gate-up@production", "texts": PROBES}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["model_id"] == challenger["id"]


def test_a_challenger_short_of_min_improvement_is_kept_out(
    db_server: ServerProcess, editor: httpx.Client, small_csv: Path, fresh_csv: Path
) -> None:
    champion = train(editor, dataset_on(db_server, fresh_csv)["id"], "gate-keep")
    promote(editor, champion["id"])
    accepted, result = finished_retrain(
        editor, "gate-keep", dataset_on(db_server, small_csv)["id"], min_improvement=0.5
    )

    assert result["decision"] == "kept", result
    assert result["min_improvement"] == 0.5
    assert_scores(result, champion["id"], accepted["model_id"])
    assert result["champion"]["score"] > 0.5  # a 0.5 gain is out of reach
    assert get_model(editor, champion["id"])["aliases"] == ["production"]
    challenger = get_model(editor, accepted["model_id"])
    assert challenger["status"] == "trained" and challenger["aliases"] == []
    assert challenger["loaded"] is False


def test_retrain_errors(db_server: ServerProcess, editor: httpx.Client, small_csv: Path) -> None:
    dataset = dataset_on(db_server, small_csv)["id"]
    assert_error(retrain(editor, "gate-nobody", dataset), 409, "gate-nobody@production")
    unpromoted = train(editor, dataset, "gate-unpromoted")
    assert_error(retrain(editor, "gate-unpromoted", dataset), 409, "promote")
    promote(editor, unpromoted["id"])
    assert_error(retrain(editor, "gate-unpromoted", "ds-does-not-exist"), 404, "ds-does-not-exist")
    response = retrain(editor, "gate-unpromoted", dataset, min_improvement=2)
    assert response.status_code == 422
    with role_client(db_server, "viewer") as viewer:
        assert retrain(viewer, "gate-unpromoted", dataset).status_code == 403


def test_alias_errors(db_server: ServerProcess, editor: httpx.Client, small_csv: Path) -> None:
    model = train(editor, dataset_on(db_server, small_csv)["id"], "alias-errors")
    assert_error(editor.post(f"{MODELS}/mdl-nobody/promote", json={}), 404, "mdl-nobody")
    bad_alias = editor.post(f"{MODELS}/{model['id']}/promote", json={"alias": "no/slash"})
    assert bad_alias.status_code == 422, bad_alias.text
    staging = promote(editor, model["id"], "staging")
    assert staging["aliases"] == ["staging"]
    with role_client(db_server, "viewer") as viewer:
        for ref in ("alias-errors@production", "nobody@staging"):
            answer = viewer.post(f"{MODELS}/predict", json={"model_id": ref, "texts": ["x"]})
            assert_error(answer, 404, ref)
        # The alias resolves, but its holder is not loaded: 409, as for its id.
        assert_error(
            viewer.post(
                f"{MODELS}/predict", json={"model_id": "alias-errors@staging", "texts": ["x"]}
            ),
            409,
            "load",
        )
        assert viewer.post(f"{MODELS}/{model['id']}/promote", json={}).status_code == 403
    # Removing the holder removes its aliases with it.
    assert editor.delete(f"{MODELS}/{model['id']}").status_code == 200
    assert_error(
        editor.post(f"{MODELS}/predict", json={"model_id": "alias-errors@staging", "texts": ["x"]}),
        404,
        "alias-errors@staging",
    )
