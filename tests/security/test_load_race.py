"""MAX_LOADED_MODELS holds under concurrent loads, within one process and across two
(`uvicorn --workers 2`), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.backend.api_steps import wait_task
from tests.databases import fresh_postgres_database
from tests.mlops.conftest import API_TOKENS, NO_DEFAULTS, TOKENS
from tests.security.conftest import csv_bytes
from tests.servers import ServerProcess, start_backend

LIMIT = 3
MODELS = 10


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def two_workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = {"DATABASE_URL": fresh_postgres_database()} if request.param == "postgresql" else {}
    server = start_backend(
        tmp_path_factory.mktemp(f"race-{request.param}"),
        workers=2,
        API_TOKENS=API_TOKENS,
        MAX_LOADED_MODELS=str(LIMIT),
        **NO_DEFAULTS,
        **env,
    )
    yield server
    server.stop()


def test_concurrent_loads_never_pass_the_limit(two_workers: ServerProcess) -> None:
    headers = {"Authorization": f"Bearer {TOKENS['editor']}"}
    rows = [
        (f"{word} {i}", str(int(word.startswith("bad"))))
        for i in range(20)
        for word in ("good day", "bad idiot")
    ]
    with httpx.Client(base_url=two_workers.url, headers=headers, timeout=120) as editor:
        dataset = editor.post(
            "/api/v1/datasets", files={"file": ("race.csv", csv_bytes(rows), "text/csv")}
        )
        assert dataset.status_code == 201, dataset.text
        model_ids = []
        for i in range(MODELS):
            accepted = editor.post(
                "/api/v1/models/fit",
                json={"name": f"race-{i}", "dataset_id": dataset.json()["id"], "model_type": "mnb"},
            )
            assert accepted.status_code == 202, accepted.text
            model_ids.append(accepted.json()["model_id"])
            task_id = accepted.json()["task_id"]
        for model_id in model_ids:
            tasks = editor.get("/api/v1/tasks/").json()
            task_id = next(t["id"] for t in tasks if t["model_id"] == model_id)
            assert wait_task(editor, task_id)["status"] == "succeeded"

        def load(model_id: str) -> int:
            # A client per thread: separate connections, spread over both workers.
            with httpx.Client(base_url=two_workers.url, headers=headers, timeout=120) as own:
                return own.post("/api/v1/models/load", json={"model_id": model_id}).status_code

        for _round in range(2):
            with ThreadPoolExecutor(MODELS) as pool:
                statuses = list(pool.map(load, model_ids))
            loaded = [m["id"] for m in editor.get("/api/v1/models/").json() if m["loaded"]]
            assert len(loaded) == LIMIT, (statuses, loaded)
            assert sorted(statuses) == [200] * LIMIT + [409] * (MODELS - LIMIT), statuses
            for model_id in loaded:  # empty the set for the next round
                assert (
                    editor.post("/api/v1/models/unload", json={"model_id": model_id}).status_code
                    == 200
                )
