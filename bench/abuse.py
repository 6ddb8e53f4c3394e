"""Abuse benchmark (issue 12): the worst single requests against a real backend.

    python bench/abuse.py [--big-csv-mb 50] [--skip-slow]

Starts `uvicorn backend.main:app` with the default limits, tokens for the three roles and a
temporary DATA_DIR, then sends each attack with the least role that may send it. Meanwhile a
sampler reads the resident memory of the web process and of its whole process tree (fit and
evaluation workers included) every 20 ms, and a prober calls GET /health every 100 ms. Per
attack it prints the answer, the request's time, the longest /health stall while it ran and
the peak RSS growth over the level just before it. Goal: no request grows the web process by
more than 200 MB or holds the backend (a /health stall) for more than 10 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.abuse_payloads import (  # noqa: E402
    huge_vocabulary_csv,
    inflating_skops,
    many_classes_csv,
    many_classes_skops,
    wide_header_csv,
)
from bench.servers import (  # noqa: E402
    ServerProcess,
    backend_env,
    serving_process,
    start_backend,
    wait_http,
)

DATA = REPO_ROOT.parent / "shared" / "data"
TOKENS = {
    role: f"{role}-bench-token-{os.urandom(8).hex()}" for role in ("viewer", "editor", "admin")
}
MB = 1 << 20


@dataclass
class Result:
    attack: str
    role: str
    answer: str
    seconds: float
    stall_s: float
    web_mb: float
    tree_mb: float


class Watcher:
    """Samples RSS (web process, whole tree) and /health latency in background threads."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.web = serving_process(server)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._peak_web = self._peak_tree = 0
        self._stall = 0.0
        self._threads = [
            threading.Thread(target=self._sample, daemon=True),
            threading.Thread(target=self._probe, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _tree_rss(self) -> tuple[int, int]:
        web = self.web.memory_info().rss
        total = web
        for child in self.web.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return web, total

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                web, tree = self._tree_rss()
            except psutil.Error:
                return
            with self._lock:
                self._peak_web = max(self._peak_web, web)
                self._peak_tree = max(self._peak_tree, tree)
            time.sleep(0.02)

    def _probe(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=120) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                with contextlib.suppress(httpx.HTTPError):
                    client.get("/health")
                elapsed = time.perf_counter() - started
                with self._lock:
                    self._stall = max(self._stall, elapsed)
                time.sleep(0.1)

    def reset(self) -> tuple[int, int]:
        web, tree = self._tree_rss()
        with self._lock:
            self._peak_web, self._peak_tree, self._stall = web, tree, 0.0
        return web, tree

    def peaks(self) -> tuple[int, int, float]:
        with self._lock:
            return self._peak_web, self._peak_tree, self._stall

    def stop(self) -> None:
        self._stop.set()


def client_for(server: ServerProcess, role: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, timeout=600, headers={"Authorization": f"Bearer {TOKENS[role]}"}
    )


def describe(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail", "")
    except ValueError:
        detail = ""
    text = f"{response.status_code}"
    if detail:
        text += f" {str(detail)[:70]}"
    return text


def upload_csv(client: httpx.Client, payload: bytes | Iterator[bytes], name: str) -> httpx.Response:
    return client.post("/api/v1/datasets", files={"file": (name, payload, "text/csv")})


def wait_task(client: httpx.Client, task_id: str, timeout: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.get(f"/api/v1/tasks/{task_id}").json()
        if task["status"] in ("succeeded", "failed", "cancelled"):
            return dict(task)
        time.sleep(0.2)
    raise RuntimeError(f"task {task_id} did not end")


def short_rows_csv(size_mb: float) -> bytes:
    row = b"ok,0\nno,1\n"
    return b"text,label\n" + row * int(size_mb * MB / len(row))


def chars(texts: list[str]) -> str:
    return f"{sum(map(len, texts)):,}"


def comments_within(comments: list[str], chars: int) -> list[str]:
    """The first comments (repeated if need be) whose characters stay within `chars`, at most
    MAX_PREDICT_BATCH of them."""
    chosen: list[str] = []
    used = 0
    for comment in comments * 10:
        if used + len(comment) > chars or len(chosen) == 10_000:
            break
        chosen.append(comment)
        used += len(comment)
    return chosen


def long_rows_csv(size_mb: float) -> bytes:
    """`text,label` rows of 10 KB each: few rows, so MAX_DATASET_ROWS does not stop it."""
    row = ("you are " + "very " * 2000 + "nice").encode()
    return b"text,label\n" + b"".join(
        row + (b",1\n" if i % 3 else b",0\n") for i in range(int(size_mb * MB / (len(row) + 3)))
    )


def run(args: argparse.Namespace) -> list[Result]:
    work = Path(tempfile.mkdtemp(prefix="abuse-"))
    env = backend_env(work / "data", default_models=True, fit_workers=1)
    env["API_TOKENS"] = ",".join(f"{role}:{token}" for role, token in TOKENS.items())
    server = start_backend(work, "backend", env)
    results: list[Result] = []
    try:
        wait_http(server, "/ready", 600)
        viewer, editor, admin = (client_for(server, r) for r in ("viewer", "editor", "admin"))
        # Setup, not measured: data and models the attacks use.
        wiki = upload_csv(editor, (DATA / "toxic_en_wiki.csv").read_bytes(), "wiki.csv").json()
        small = upload_csv(editor, (DATA / "toxic_en.csv").read_bytes()[:400_000], "s.csv")
        small_id = small.json()["id"]
        accepted = editor.post(
            "/api/v1/models/fit",
            json={"name": "unloaded", "dataset_id": small_id, "model_type": "mnb"},
        ).json()
        wait_task(editor, accepted["task_id"])
        unloaded_id = accepted["model_id"]
        wide = upload_csv(editor, many_classes_csv(200, 5), "200.csv").json()
        accepted = editor.post(
            "/api/v1/models/fit",
            json={"name": "wide", "dataset_id": wide["id"], "model_type": "logreg"},
        ).json()
        wait_task(editor, accepted["task_id"])
        wide_model = accepted["model_id"]
        editor.post("/api/v1/models/load", json={"model_id": wide_model})
        vocabulary_csv = huge_vocabulary_csv()
        bomb = inflating_skops(512 << 20)
        wide_skops = many_classes_skops(5000)
        big_texts = ["you are " + "very " * 1200 + "nice"] * 10_000  # ~60 MB of JSON
        many_texts = ["hello there"] * 10_000
        big_csv = short_rows_csv(args.big_csv_mb)
        long_csv = long_rows_csv(args.long_csv_mb)
        # The most text one request may carry (MAX_PREDICT_CHARS), in comment-sized texts.
        # Wikipedia talk-page comments: about 400 characters each, so the character limits
        # bind before MAX_PREDICT_BATCH does.
        comments = pd.read_csv(DATA / "toxic_en_wiki.csv")["text"].astype(str).tolist()
        at_limit = comments_within(comments, 1_000_000)
        explain_limit = comments_within(comments, 200_000)  # MAX_EXPLAIN_CHARS

        def fit_too_big() -> httpx.Response:
            dataset = upload_csv(editor, vocabulary_csv, "vocab.csv").json()
            response = editor.post(
                "/api/v1/models/fit",
                json={"name": "huge", "dataset_id": dataset["id"], "model_type": "logreg"},
            )
            task = wait_task(editor, response.json()["task_id"])
            return httpx.Response(
                400 if task["status"] == "failed" else 200,
                json={"detail": f"task {task['status']}: {task['error']}"},
            )

        def evaluate(model_id: str, dataset_id: str) -> Callable[[], httpx.Response]:
            return lambda: viewer.post(
                "/api/v1/models/evaluate", json={"model_id": model_id, "dataset_id": dataset_id}
            )

        def concurrent_evaluates() -> httpx.Response:
            answers: list[int] = []

            def one() -> None:
                answers.append(evaluate("default-logreg", wiki["id"])().status_code)

            threads = [threading.Thread(target=one) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            codes = ", ".join(f"{answers.count(c)}×{c}" for c in sorted(set(answers)))
            return httpx.Response(200, json={"detail": codes})

        attacks: list[tuple[str, str, Callable[[], httpx.Response]]] = [
            (
                "CSV header of 1,000,000 columns (7.9 MB)",
                "editor",
                lambda: upload_csv(editor, wide_header_csv(1_000_000), "wide.csv"),
            ),
            (
                "dataset of 5,000 classes (366 KB)",
                "editor",
                lambda: upload_csv(editor, many_classes_csv(5000), "classes.csv"),
            ),
            ("fit: 1.5 MB CSV → 256 MB model (200 classes × 160k words)", "editor", fit_too_big),
            (
                "skops upload, coef_ inflates to 512 MiB (0.5 MB)",
                "admin",
                lambda: admin.post(
                    "/api/v1/models/upload",
                    data={"name": "bomb"},
                    files={"file": ("b.skops", bomb)},
                ),
            ),
            (
                "skops upload of a 5,000-class model",
                "admin",
                lambda: admin.post(
                    "/api/v1/models/upload",
                    data={"name": "wide5000"},
                    files={"file": ("w.skops", wide_skops)},
                ),
            ),
            (
                "evaluate default-logreg on 70k rows",
                "viewer",
                evaluate("default-logreg", wiki["id"]),
            ),
            ("evaluate an unloaded model on 70k rows", "viewer", evaluate(unloaded_id, wiki["id"])),
            ("8 concurrent evaluates on 70k rows", "viewer", concurrent_evaluates),
            (
                "predict 10,000 texts of 6 KB (60 MB body)",
                "viewer",
                lambda: viewer.post(
                    "/api/v1/models/predict",
                    json={"model_id": "default-logreg", "texts": big_texts},
                ),
            ),
            (
                f"predict {len(at_limit):,} comments, {chars(at_limit)} characters (at the limit)",
                "viewer",
                lambda: viewer.post(
                    "/api/v1/models/predict",
                    json={"model_id": "default-logreg", "texts": at_limit},
                ),
            ),
            (
                f"explain {len(at_limit):,} comments, {chars(at_limit)} characters",
                "viewer",
                lambda: viewer.post(
                    "/api/v1/models/explain",
                    json={"model_id": "default-logreg", "texts": at_limit},
                ),
            ),
            (
                f"explain {len(explain_limit):,} comments, {chars(explain_limit)} characters "
                "(at its limit), top_k 200",
                "viewer",
                lambda: viewer.post(
                    "/api/v1/models/explain",
                    json={"model_id": "default-logreg", "texts": explain_limit, "top_k": 200},
                ),
            ),
            (
                "predict_scores, 200-class model, 10,000 texts",
                "viewer",
                lambda: viewer.post(
                    "/api/v1/models/predict_scores",
                    json={"model_id": wide_model, "texts": many_texts},
                ),
            ),
            (
                "evaluate default-logreg on its held-out split",
                "viewer",
                lambda: viewer.post(
                    "/api/v1/models/evaluate",
                    json={"model_id": "default-logreg", "split": "holdout"},
                ),
            ),
            (
                f"CSV of 10 KB rows, {args.long_csv_mb:g} MB",
                "editor",
                lambda: upload_csv(editor, long_csv, "long.csv"),
            ),
            (
                f"CSV of short rows, {args.big_csv_mb:g} MB",
                "editor",
                lambda: upload_csv(editor, big_csv, "big.csv"),
            ),
        ]
        watcher = Watcher(server)
        try:
            for name, role, attack in attacks:
                if args.only and not any(part in name for part in args.only.split(",")):
                    continue
                time.sleep(1.0)
                web0, tree0 = watcher.reset()
                started = time.perf_counter()
                try:
                    answer = describe(attack())
                except httpx.HTTPError as exc:
                    answer = f"error {type(exc).__name__}"
                seconds = time.perf_counter() - started
                time.sleep(0.3)
                web, tree, stall = watcher.peaks()
                result = Result(
                    name, role, answer, seconds, stall, (web - web0) / MB, (tree - tree0) / MB
                )
                results.append(result)
                print(
                    f"{name}: {answer} {seconds:.1f}s stall {stall:.2f}s "
                    f"web +{result.web_mb:.0f} MB tree +{result.tree_mb:.0f} MB",
                    flush=True,
                )
        finally:
            watcher.stop()
    finally:
        server.stop()
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| attack | role | answer | request | longest /health stall | peak RSS growth, web "
        "process | peak RSS growth, with workers |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        answer = r.answer.replace("|", "/")
        lines.append(
            f"| {r.attack} | {r.role} | {answer} | {r.seconds:.1f} s | "
            f"{r.stall_s:.2f} s | {r.web_mb:+.0f} MB | {r.tree_mb:+.0f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--big-csv-mb",
        type=float,
        default=50,
        help="size of the short-rows CSV upload (MAX_UPLOAD_MB is 200)",
    )
    parser.add_argument(
        "--long-csv-mb",
        type=float,
        default=199,
        help="size of the long-rows CSV upload (just under MAX_UPLOAD_MB)",
    )
    parser.add_argument(
        "--only", default="", help="run only attacks whose name has one of these (a,b)"
    )
    args = parser.parse_args()
    results = run(args)
    print()
    print(table(results))
    load = os.getloadavg()
    print(f"\n{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
