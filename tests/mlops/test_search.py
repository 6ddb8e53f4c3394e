"""Grid search on the local process pool: a fit of kind `search` whose model gets the best
parameters; grid values are validated like params, naming the offending key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.api_steps import get_model, submit_fit, wait_task
from tests.mlops.conftest import dataset_on, role_client
from tests.servers import ServerProcess

GRID = {"param_grid": {"C": [0.1, 1, 10]}, "cv": 3}


@pytest.fixture(scope="module")
def editor(server: ServerProcess) -> Any:
    with role_client(server, "editor") as client:
        yield client


def test_grid_search_fit(server: ServerProcess, editor: httpx.Client, small_csv: Path) -> None:
    response = submit_fit(
        editor,
        dataset_on(server, small_csv)["id"],
        "searched",
        params={"max_iter": 500},
        search=GRID,
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    task = wait_task(editor, accepted["task_id"])
    assert task["status"] == "succeeded", task
    assert task["kind"] == "search"
    search = task["result"]["metrics"]["search"]
    assert set(search["best_params"]) == {"C"}
    assert search["best_params"]["C"] in (0.1, 1, 10)
    assert search["cv"] == 3 and search["scoring"] == "f1"
    assert sorted(c["params"]["C"] for c in search["candidates"]) == [0.1, 1, 10]
    best = max(search["candidates"], key=lambda c: c["mean_score"])
    assert search["best_score"] == pytest.approx(best["mean_score"])
    model = get_model(editor, accepted["model_id"])
    assert model["status"] == "trained"
    assert model["params"]["C"] == search["best_params"]["C"]
    assert model["params"]["max_iter"] == 500  # the fixed params stay
    assert 0 <= model["metrics"]["f1"] <= 1


@pytest.mark.parametrize(
    ("grid", "needle"),
    [
        ({"param_grid": {"C": [1, -1]}}, "search.param_grid.C"),
        ({"param_grid": {"C": [1, "many"]}}, "search.param_grid.C"),
        ({"param_grid": {"gamma": [1, 2]}}, "search.param_grid.gamma"),
        ({"param_grid": {"C": []}}, "search.param_grid.C"),
        ({"param_grid": {}}, "search.param_grid"),
        ({"param_grid": {"C": [1, 2]}, "cv": 1}, "cv"),
        ({"param_grid": {"C": list(range(1, 300))}}, "search.param_grid"),
    ],
)
def test_bad_grid_is_422_naming_it(
    server: ServerProcess,
    editor: httpx.Client,
    small_csv: Path,
    grid: dict[str, Any],
    needle: str,
) -> None:
    before = len(editor.get("/api/v1/tasks/").json())
    response = submit_fit(editor, dataset_on(server, small_csv)["id"], "bad-grid", search=grid)
    assert response.status_code == 422, response.text
    assert needle in str(response.json()["detail"])
    assert len(editor.get("/api/v1/tasks/").json()) == before
