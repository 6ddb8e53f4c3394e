"""Two backend replicas on one PostgreSQL database and one DATA_DIR/MODELS_DIR, as the compose
stacks run them: a serving change made through one is seen by the other, a fit is claimed by
exactly one, a cancel sent to either reaches the owner, `/health` tells them apart.

SERVING_RECHECK_S is 60 here, so the other replica can only see an unload, promote or removal
within the test's deadline through PostgreSQL's LISTEN/NOTIFY, not by re-reading on a timer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.backend.api_steps import (
    MODELS,
    SLOW_FIT,
    fit_ok,
    load_ok,
    predict,
    train,
    unload,
    upload_ok,
    wait_fitting,
    wait_task,
)
from tests.conftest import TOXIC_EN
from tests.databases import fresh_postgres_database
from tests.servers import ServerProcess, start_backend

# Far below SERVING_RECHECK_S: only a notification gets a change there in time.
SEEN_WITHIN_S = 5.0
PROBES = ["you are a wonderful person", "shut up you stupid idiot"]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    root = tmp_path_factory.mktemp("replicas")
    env = {
        "DATABASE_URL": fresh_postgres_database(),
        "DEFAULT_MODELS": "false",
        "SERVING_RECHECK_S": "60",
        "FIT_WORKERS": "1",
    }
    servers: list[ServerProcess] = []
    try:
        for index in range(2):
            servers.append(start_backend(root / "data", LOG_DIR=str(root / f"log-{index}"), **env))
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def clients(replicas: list[ServerProcess]) -> Iterator[list[httpx.Client]]:
    opened = [httpx.Client(base_url=server.url, timeout=60) for server in replicas]
    yield opened
    for client in opened:
        client.close()


@pytest.fixture(scope="module")
def dataset_id(clients: list[httpx.Client], small_csv: Path) -> str:
    return str(upload_ok(clients[0], small_csv)["id"])


def eventually(check: Callable[[], bool], what: str, timeout: float = SEEN_WITHIN_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not seen by the other replica within {timeout}s: {what}")


def status_of(client: httpx.Client, model_ref: str) -> int:
    return predict(client, model_ref, PROBES).status_code


def started_in(server: ServerProcess, task_id: str) -> int:
    """How many times `server` started the task (its log line per claimed task)."""
    return len(re.findall(rf"starting task {task_id}\b", server.log()))


def test_health_tells_the_replicas_apart(clients: list[httpx.Client]) -> None:
    instances = [client.get("/health").json()["instance"] for client in clients]
    assert all(instances) and instances[0] != instances[1], instances


def test_unload_promote_remove_reach_the_other_replica(
    clients: list[httpx.Client], dataset_id: str
) -> None:
    a, b = clients
    first = train(a, dataset_id, "replicated")
    second = train(b, dataset_id, "replicated")
    assert (first["version"], second["version"]) == (1, 2)

    # A load through A: B serves it on its next request.
    assert status_of(b, first["id"]) == 409
    load_ok(a, first["id"])
    assert status_of(b, first["id"]) == 200

    # Each change below starts from B serving out of its own table: a change B makes itself
    # refreshes it at once. Then A changes the state and B must notice.
    load_ok(b, first["id"])
    assert status_of(b, first["id"]) == 200
    assert unload(a, first["id"]).status_code == 200
    eventually(lambda: status_of(b, first["id"]) == 409, "unload")

    load_ok(b, first["id"])
    load_ok(b, second["id"])
    promote = b.post(f"{MODELS}/{first['id']}/promote", json={"alias": "production"})
    assert promote.status_code == 200, promote.text
    served = predict(b, "replicated@production", PROBES)
    assert served.status_code == 200 and served.json()["model_id"] == first["id"]
    promote = a.post(f"{MODELS}/{second['id']}/promote", json={"alias": "production"})
    assert promote.status_code == 200, promote.text
    eventually(
        lambda: predict(b, "replicated@production", PROBES).json().get("model_id") == second["id"],
        "promote",
    )

    load_ok(b, first["id"])
    assert status_of(b, first["id"]) == 200
    assert a.delete(f"{MODELS}/{first['id']}").status_code == 200
    eventually(lambda: status_of(b, first["id"]) == 404, "remove")


def test_each_fit_is_claimed_by_exactly_one_replica(
    replicas: list[ServerProcess], clients: list[httpx.Client], dataset_id: str
) -> None:
    accepted = [fit_ok(clients[i % 2], dataset_id, f"claimed-{i}") for i in range(6)]
    for fit in accepted:
        task = wait_task(clients[0], fit["task_id"])
        assert task["status"] == "succeeded", task
    for fit in accepted:
        starts = [started_in(server, fit["task_id"]) for server in replicas]
        assert sum(starts) == 1, (fit["task_id"], starts)


def test_a_cancel_sent_to_the_other_replica_reaches_the_owner(
    replicas: list[ServerProcess], clients: list[httpx.Client]
) -> None:
    full = upload_ok(clients[0], TOXIC_EN)
    accepted = fit_ok(clients[0], full["id"], "cancel-across", **SLOW_FIT)
    wait_fitting(clients[0], accepted["task_id"])
    owner = next(i for i, server in enumerate(replicas) if started_in(server, accepted["task_id"]))
    other = clients[1 - owner]
    response = other.post(f"/api/v1/tasks/{accepted['task_id']}/cancel")
    assert response.status_code == 200, response.text
    # Only the owning process moves a running task to `cancelled`, once its worker stopped.
    task = wait_task(other, accepted["task_id"], timeout=60)
    assert task["status"] == "cancelled", task
    model = other.get(f"{MODELS}/{accepted['model_id']}").json()
    assert model["status"] == "failed"
