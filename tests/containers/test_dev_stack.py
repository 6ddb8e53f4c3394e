"""The development stack for real: `scripts/stack.sh up` builds the images and starts
PostgreSQL, two backend replicas, the frontend and nginx; everything below goes through nginx
on the published port, as a browser or an API client would.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.api_steps import DATASETS, ENDED, MODELS, TASKS
from tests.containers.stack import Stack, dev_stack, require_docker, run, stack_sh, wait_until
from tests.infra.test_nginx_live import WEBSOCKET_GUID, websocket_handshake

PROBES = ["you are a wonderful person", "shut up you stupid idiot"]
pytestmark = pytest.mark.timeout(2400)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_docker()
    # 4,000 rows keep the default models' first training short; two replicas as shipped.
    # nginx's API rate limit up: the failover test sends requests as fast as they come back.
    started = dev_stack(
        tmp_path_factory.mktemp("dev-stack"),
        DEFAULT_MODELS_ROWS="4000",
        BACKEND_REPLICAS="2",
        NGINX_API_RATE="1000",
        NGINX_API_BURST="1000",
        NGINX_PREDICT_RATE="1000",
    )
    try:
        began = time.monotonic()
        output = stack_sh(started, "up").stdout
        print(f"stack.sh up (build included): {time.monotonic() - began:.0f} s")
        assert output.strip().splitlines()[-1] == started.url, output
        yield started
    finally:
        # The test's volumes go too; `stack.sh down` alone keeps them (checked below).
        stack_sh(started, "down", "--volumes", timeout=300)


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with stack.client() as client:
        yield client


@pytest.fixture(scope="module")
def trained(api: httpx.Client, small_csv: Path) -> dict[str, Any]:
    """Upload → fit → load through nginx: the dataset, the model and its predictions."""
    uploaded = api.post(DATASETS, files={"file": ("small.csv", small_csv.read_bytes(), "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    dataset = uploaded.json()
    fit = api.post(
        f"{MODELS}/fit",
        json={"name": "stack-model", "dataset_id": dataset["id"], "model_type": "logreg"},
    )
    assert fit.status_code == 202, fit.text
    accepted = fit.json()
    wait_until(
        lambda: api.get(f"{TASKS}/{accepted['task_id']}").json()["status"] in ENDED,
        180,
        "the fit ends",
    )
    task = api.get(f"{TASKS}/{accepted['task_id']}").json()
    assert task["status"] == "succeeded", task
    loaded = api.post(f"{MODELS}/load", json={"model_id": accepted["model_id"]})
    assert loaded.status_code == 200, loaded.text
    predicted = api.post(
        f"{MODELS}/predict", json={"model_id": accepted["model_id"], "texts": PROBES}
    )
    assert predicted.status_code == 200, predicted.text
    return {
        "dataset": dataset,
        "model_id": accepted["model_id"],
        "predictions": predicted.json()["predictions"],
    }


def instances(api: httpx.Client, requests: int = 40) -> set[str]:
    seen = set()
    for _ in range(requests):
        with httpx.Client(base_url=str(api.base_url), timeout=30) as fresh:
            response = fresh.get("/health")
        assert response.status_code == 200, response.text
        seen.add(response.json()["instance"])
    return seen


def test_page_and_its_websocket_through_nginx(stack: Stack, api: httpx.Client) -> None:
    page = api.get("/")
    assert page.status_code == 200
    assert 'id="root"' in page.text and "streamlit" in page.text.lower()
    status, headers, key = websocket_handshake(
        stack.port, "/_stcore/stream", f"127.0.0.1:{stack.port}"
    )
    assert status.startswith("HTTP/1.1 101"), (status, headers)
    expected = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
    assert headers["sec-websocket-accept"] == expected


def test_the_page_renders_without_streamlits_deploy_button(stack: Stack) -> None:
    """In a real browser through nginx: the app renders, and the toolbar has no "Deploy"
    (the image sets client.toolbarMode=viewer; on 127.0.0.1 Streamlit would show it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.goto(stack.url + "/")
            page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=120_000)
            page.wait_for_selector('[data-testid="stToolbar"]', timeout=60_000)
            page.wait_for_timeout(2000)
            assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
            assert page.get_by_text("Deploy", exact=True).count() == 0
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()


def test_ready_and_both_replicas_answer(stack: Stack, api: httpx.Client) -> None:
    assert api.get("/ready").status_code == 200
    assert len(stack.container_ids("backend")) == 2
    seen = instances(api)
    assert len(seen) == 2, seen


def test_upload_fit_load_predict(api: httpx.Client, trained: dict[str, Any]) -> None:
    assert trained["predictions"] == [0, 1] or len(trained["predictions"]) == 2
    listed = {model["id"]: model for model in api.get(f"{MODELS}/").json()}
    assert listed[trained["model_id"]]["loaded"] is True
    # Every replica serves it: the loaded set is shared.
    for _ in range(10):
        with httpx.Client(base_url=str(api.base_url), timeout=30) as fresh:
            response = fresh.post(
                f"{MODELS}/predict", json={"model_id": trained["model_id"], "texts": PROBES}
            )
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == trained["predictions"]


def test_killing_a_replica_keeps_the_api_answering(
    stack: Stack, api: httpx.Client, trained: dict[str, Any]
) -> None:
    # Fits in flight when the replica dies: none may be lost (each ends, one way or another).
    fits = [
        api.post(
            f"{MODELS}/fit",
            json={
                "name": f"during-kill-{i}",
                "model_type": "mnb",
                "dataset_id": trained["dataset"]["id"],
            },
        ).json()
        for i in range(2)
    ]
    results: list[tuple[float, str, int, float]] = []
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=str(api.base_url), timeout=60) as client:
            while not stop.is_set():
                for kind in ("predict", "list"):
                    began = time.monotonic()
                    try:
                        if kind == "predict":
                            status = client.post(
                                f"{MODELS}/predict",
                                json={"model_id": trained["model_id"], "texts": PROBES},
                            ).status_code
                        else:
                            status = client.get(f"{MODELS}/").status_code
                    except httpx.HTTPError:
                        status = 0
                    results.append((began, kind, status, time.monotonic() - began))

    worker = threading.Thread(target=traffic)
    worker.start()
    time.sleep(2)
    victim = stack.container_ids("backend")[0]
    killed_at = time.monotonic()
    run(["docker", "kill", victim])
    time.sleep(15)  # past nginx's DNS cache (5 s) and its connect timeout (3 s)
    stop.set()
    worker.join(60)

    after = [r for r in results if r[0] >= killed_at]
    # 5xx or no answer at all; a 429 would be nginx's rate limit, not a failover.
    failures = [r for r in results if r[2] != 429 and (r[2] >= 500 or r[2] == 0)]
    assert all(r[2] in (200, 429) for r in results if r not in failures), results[:10]
    slow = [r for r in after if r[3] > 1.0]
    failover_s = max((r[0] + r[3] - killed_at for r in slow), default=0.0)
    print(
        f"replica killed: {len(after)} requests after the kill, {len(failures)} failed, "
        f"slowest {max(r[3] for r in after):.2f} s, failover over after {failover_s:.1f} s"
    )
    assert after, "no request ran after the kill"
    assert not failures, failures[:10]
    assert len(instances(api, 20)) == 1

    for fit in fits:
        wait_until(
            lambda fit=fit: api.get(f"{TASKS}/{fit['task_id']}").json()["status"] in ENDED,
            180,
            f"task {fit['task_id']} ends after the kill",
        )

    # Back to two replicas: compose starts the killed container again (the env file that
    # stack.sh keeps names the images it built, so plain compose commands use them too).
    stack.compose("up", "-d", "--no-build", "--wait", "--wait-timeout", "600", timeout=900)
    wait_until(lambda: len(instances(api, 20)) == 2, 120, "both replicas answer again")


def test_down_and_up_keep_datasets_and_models(
    stack: Stack, api: httpx.Client, trained: dict[str, Any]
) -> None:
    stack_sh(stack, "down", timeout=300)
    assert not stack.container_ids("backend")
    volumes = run(["docker", "volume", "ls", "-q", "--filter", f"name={stack.project}_"]).stdout
    for volume in ("postgres", "data", "models"):
        assert f"{stack.project}_{volume}" in volumes.split(), volumes

    began = time.monotonic()
    stack_sh(stack, "up")
    print(f"stack.sh up again (images built, volumes kept): {time.monotonic() - began:.0f} s")
    datasets = {d["id"] for d in api.get(f"{DATASETS}/").json()}
    assert trained["dataset"]["id"] in datasets
    model = api.get(f"{MODELS}/{trained['model_id']}").json()
    assert model["status"] == "trained" and model["loaded"] is True, model
    predicted = api.post(
        f"{MODELS}/predict", json={"model_id": trained["model_id"], "texts": PROBES}
    )
    assert predicted.status_code == 200, predicted.text
    assert predicted.json()["predictions"] == trained["predictions"]
