"""Serving speed of each model kind of issue 15, in this process and through the API.

    python bench/kinds_serving.py                 # about 10 minutes on 2 cores
    python bench/kinds_serving.py --write-readme  # also replace the table in README.md

Starts a backend (one uvicorn worker, one fit worker, no default models) on a temporary data
directory, uploads the OLID stand-in (bench/olid_proxy.py: 6,213 tweets), fits each kind
through the API — word n-grams (the baseline), the word+char union, NB-SVM, calibrated
LinearSVC, lemmatized word n-grams, and `auto` with its default budget — and loads it. Then,
for each model, the best of 5 windows of `--seconds` each, the four figures' windows
taken in turn (so that other work on the machine weighs on all of them alike):

- in process: the model file downloaded from the API, loaded as the service loads it, and
  `predict` called with 1 text (calls/s) and with 100 texts (texts/s);
- through the API: `POST /api/v1/models/predict` from one client over keep-alive HTTP, with 1
  and with 100 texts per request (sequential: the latency of one caller, not a load test; the
  wrk figures of `run_bench.py` are the load test).

Writes the table to bench/results/kinds_serving.md (and README with --write-readme).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sklearn

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from backend_api import BackendApi  # noqa: E402
from inprocess import calls_per_second  # noqa: E402
from olid_proxy import olid_proxy  # noqa: E402
from readme_block import write_readme_block  # noqa: E402
from servers import backend_env, start_backend, wait_http  # noqa: E402

from backend.ml.artifacts import loads_trusted  # noqa: E402

DATA = REPO.parent / "shared" / "data"
WINDOWS = 5
WORD = {"type": "tfidf", "ngram_range": [1, 2], "min_df": 2, "sublinear_tf": True}
UNION = {"type": "union"}
LIBLINEAR = {"solver": "liblinear"}
# (row name, fit request)
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("logreg · word 1-2 (baseline)", {"model_type": "logreg", "vectorizer": WORD}),
    ("logreg · union", {"model_type": "logreg", "params": LIBLINEAR, "vectorizer": UNION}),
    ("nbsvm · union", {"model_type": "nbsvm", "vectorizer": UNION}),
    (
        "svc calibrated · union",
        {"model_type": "svc", "params": {"C": 0.3, "calibrate": True}, "vectorizer": UNION},
    ),
    (
        "logreg · word 1-2 lemmatized",
        {"model_type": "logreg", "vectorizer": {**WORD, "lemmatize": True}},
    ),
    ("auto (default budget)", {"model_type": "auto"}),
]


def fit_and_load(api: BackendApi, dataset_id: str, name: str, request: dict[str, Any]) -> Any:
    submitted = api.submit_fit(dataset_id, name, {**request, "random_state": 42})
    started = time.perf_counter()
    task = api.wait_task(submitted["task_id"], {"succeeded"}, poll_s=0.5, timeout_s=1800)
    if task["status"] != "succeeded":
        raise RuntimeError(f"fit {name} ended {task['status']}: {task.get('error')}")
    fit_s = time.perf_counter() - started
    model = api.load(submitted["model_id"])
    return model, fit_s


def measure(api: BackendApi, model_id: str, texts: list[str], seconds: float) -> dict[str, float]:
    pipeline = loads_trusted(api.download(model_id))
    batch = texts[:100]
    at = [0]

    def one_text_in_process() -> None:
        at[0] = (at[0] + 1) % len(texts)
        pipeline.predict([texts[at[0]]])

    def one_text_over_api() -> None:
        at[0] = (at[0] + 1) % len(texts)
        api.predict(model_id, [texts[at[0]]])

    figures = {
        "inproc_1": one_text_in_process,
        "inproc_100": lambda: pipeline.predict(batch),
        "api_1": one_text_over_api,
        "api_100": lambda: api.predict(model_id, batch),
    }
    per_call = {"inproc_1": 1, "inproc_100": 100, "api_1": 1, "api_100": 100}
    best = dict.fromkeys(figures, 0.0)
    for _ in range(WINDOWS):  # interleaved, so a burst of other work hits every figure alike
        for name, call in figures.items():
            rate = per_call[name] * calls_per_second(call, seconds, windows=1)
            best[name] = max(best[name], rate)
    return best


def chosen_name(model: dict[str, Any]) -> str:
    chosen = (model.get("params") or {}).get("chosen") or {}
    if not chosen:
        return ""
    params = chosen.get("params") or {}
    shown = ", ".join(f"{k}={params[k]}" for k in ("C", "alpha") if k in params)
    return f" → {chosen.get('model_type')} {shown}"


def table(rows: list[dict[str, Any]], header: str) -> str:
    lines = [
        header,
        "",
        "| kind · features | fit s (API) | in process: 1 text, calls/s | in process: 100 texts, "
        "texts/s | API: 1 text, calls/s | API: 100 texts/request, texts/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['fit_s']:.0f} | {r['inproc_1']:,.0f} | {r['inproc_100']:,.0f}"
            f" | {r['api_1']:,.0f} | {r['api_100']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def commit() -> str:
    found = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="one window")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="toxiclf-kinds-") as tmp:
        work = Path(tmp)
        (work / "data").mkdir()
        proxy = olid_proxy(DATA)
        csv = work / "olid_proxy.csv"
        proxy.to_csv(csv, index=False)
        texts = proxy["text"].tolist()[-1000:]
        server = start_backend(
            work, "backend", backend_env(work / "data", default_models=False, fit_workers=1)
        )
        try:
            wait_http(server, "/ready", 300)
            api = BackendApi(server.url)
            dataset = api.upload_dataset(csv, "olid-proxy")
            for kind, request in KINDS:
                model, fit_s = fit_and_load(api, dataset["id"], f"kinds-{len(rows)}", request)
                figures = measure(api, model["id"], texts, args.seconds)
                rows.append({"kind": kind + chosen_name(model), "fit_s": fit_s, **figures})
                print(rows[-1], flush=True)
            api.close()
        finally:
            server.stop()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    header = (
        f"Measured by `python bench/kinds_serving.py` at {commit()} on {os.cpu_count()} cores "
        f"(load average {load}), Python {platform.python_version()}, scikit-learn "
        f"{sklearn.__version__}; OLID stand-in (6,213 tweets, 80 % trained), one client, "
        f"one uvicorn worker; best of {WINDOWS} interleaved windows of {args.seconds:g} s."
    )
    block = table(rows, header)
    print(block)
    (BENCH / "results" / "kinds_serving.md").write_text(
        "# Serving speed per model kind (issue 15)\n\n" + block, encoding="utf-8"
    )
    if args.write_readme:
        write_readme_block("kinds-serving-table", block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
