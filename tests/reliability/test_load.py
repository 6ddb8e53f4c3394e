"""Load: 50 concurrent clients mixing predict, list, fit and task polling for LOAD_TEST_SECONDS
(60 by default, `-m slow`; a 10 s version runs in the normal suite): zero 5xx, zero lost tasks,
and the server's memory back near its start level afterwards."""

from __future__ import annotations

import gc
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import StartServer
from tests.reliability.conftest import assert_healthy, upload_csv, wait_task
from tests.servers import ServerProcess

CLIENTS = 50
FULL_SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "60"))
SHORT_SECONDS = 10.0
TEXTS = ["you are great", "what an idiot", "nice weather today", "I will find you", "ok"]


def _rss_mb(server: ServerProcess) -> float:
    """Resident memory of the server process (fit workers excluded: they come and go)."""
    return psutil.Process(server.process.pid).memory_info().rss / 2**20


class LoadRun:
    """Shared tallies of one load run."""

    def __init__(self, server: ServerProcess, dataset_id: str, seconds: float) -> None:
        self.server = server
        self.dataset_id = dataset_id
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.server_errors: list[str] = []
        self.transport_errors: list[str] = []
        self.accepted_tasks: list[str] = []

    def record(self, kind: str, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[f"{kind} {response.status_code}"] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{kind} {response.status_code} {response.text[:300]}")

    def client(self, seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        with httpx.Client(base_url=self.server.url, timeout=60) as http:
            while time.monotonic() < self.deadline:
                roll = rng.random()
                try:
                    if roll < 0.55:
                        model = rng.choice(["default-logreg", "default-mnb", "default-svc"])
                        route = rng.choice(["predict", "predict_scores"])
                        texts = rng.sample(TEXTS, rng.randint(1, len(TEXTS)))
                        self.record(
                            route,
                            http.post(
                                f"/api/v1/models/{route}", json={"model_id": model, "texts": texts}
                            ),
                        )
                    elif roll < 0.75:
                        path = rng.choice(
                            [
                                "/api/v1/models/",
                                "/api/v1/tasks/",
                                "/api/v1/datasets",
                                "/api/v1/predictions/?limit=20",
                            ]
                        )
                        self.record("list", http.get(path))
                    elif roll < 0.78:
                        response = http.post(
                            "/api/v1/models/fit",
                            json={
                                "name": f"load-{seed}",
                                "dataset_id": self.dataset_id,
                                "model_type": rng.choice(["mnb", "logreg"]),
                            },
                        )
                        self.record("fit", response)
                        if response.status_code == 202:
                            mine.append(response.json()["task_id"])
                            with self.lock:
                                self.accepted_tasks.append(response.json()["task_id"])
                    elif mine:
                        self.record("poll", http.get(f"/api/v1/tasks/{rng.choice(mine)}"))
                    else:
                        self.record("health", http.get("/health"))
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.transport_errors.append(f"{type(exc).__name__}: {exc}")


def run_load(start_server: StartServer, small_csv: Path, seconds: float) -> None:
    server = start_server(MAX_QUEUED_FITS="32")
    dataset = upload_csv(server, small_csv.read_bytes(), "small.csv").json()
    for _ in range(20):  # warm up every default model before the baseline
        for model in ("default-logreg", "default-mnb", "default-svc"):
            httpx.post(
                f"{server.url}/api/v1/models/predict",
                timeout=30,
                json={"model_id": model, "texts": TEXTS},
            )
    baseline = _rss_mb(server)

    run = LoadRun(server, dataset["id"], seconds)
    threads = [threading.Thread(target=run.client, args=(seed,)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    total = sum(run.statuses.values())
    print(
        f"\nload: {CLIENTS} clients, {seconds:g}s, {total} requests "
        f"({total / seconds:.0f}/s), fits accepted {len(run.accepted_tasks)}, "
        f"rss {baseline:.0f} MB before; {dict(run.statuses)}"
    )

    assert run.server_errors == [], run.server_errors[:20]
    assert run.transport_errors == [], run.transport_errors[:20]
    assert total > CLIENTS
    assert run.accepted_tasks, "no fit was accepted under load"

    # Zero lost tasks: every accepted fit is listed and ends, and they all succeed.
    listed = {t["id"] for t in httpx.get(f"{server.url}/api/v1/tasks/", timeout=60).json()}
    assert set(run.accepted_tasks) <= listed
    for task_id in run.accepted_tasks:
        task = wait_task(server.url, task_id, timeout=300)
        assert task["status"] == "succeeded", task

    gc.collect()
    time.sleep(2)
    after = _rss_mb(server)
    print(f"rss after load: {after:.0f} MB (baseline {baseline:.0f} MB)")
    assert after < max(baseline * 1.5, baseline + 150), (baseline, after)
    assert_healthy(server)


def test_load_short(start_server: StartServer, small_csv: Path) -> None:
    run_load(start_server, small_csv, SHORT_SECONDS)


@pytest.mark.slow
def test_load_full(start_server: StartServer, small_csv: Path) -> None:
    run_load(start_server, small_csv, FULL_SECONDS)
