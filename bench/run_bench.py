"""Issue 8 benchmark: our backend vs MLflow's scoring server, in one run on this machine.

    bench/run.sh [options]          (installs wrk and bench/.venv-mlflow, then runs this)

Trains the issue's pipeline in process (raw fit time, predict throughput), serves it with
`mlflow models serve` from bench/.venv-mlflow and fits the same pipeline through our API,
loads both servers with wrk, then measures starvation under two fits and memory per model.
Prints a markdown table and writes it to bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import joblib
import psutil
from backend_api import BackendApi, mlflow_predict
from inprocess import (
    FIT_REQUEST,
    InProcessFigures,
    Split,
    best_of,
    load_split,
    predict_figures,
    timed_fit,
)
from loadgen import BodyFn, LoadResult, mlflow_body, ours_body, run_wrk, write_bodies
from machine import context_lines, load_average
from report import Results, render
from scenarios import (
    FitRun,
    Memory,
    default_model_memory,
    fit_through_api,
    load_unload_memory,
    starvation,
)
from servers import (
    MLFLOW_VENV,
    REPO_ROOT,
    ServerProcess,
    backend_env,
    rss_bytes,
    start_backend,
    start_mlflow,
    wait_http,
)
from sklearn.pipeline import Pipeline

DEFAULT_CSV = REPO_ROOT.parent / "shared" / "data" / "toxic_en.csv"
BUNDLED_CSV = REPO_ROOT / "backend" / "sample_data" / "toxic_en.csv"
STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--csv", type=Path, default=DEFAULT_CSV if DEFAULT_CSV.exists() else BUNDLED_CSV
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds of wrk per case")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of wrk before each")
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (1: wrk keeps to its own core)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="wrk runs per case, interleaved; the median counts"
    )
    parser.add_argument(
        "--server-cpus",
        default="0",
        help="cores the servers under test are pinned to (taskset list)",
    )
    parser.add_argument("--wrk-cpus", default="1", help="cores wrk is pinned to")
    parser.add_argument("--no-pin", action="store_true", help="pin nothing")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--fit-repeats", type=int, default=2, help="raw and API fits each; the fastest counts"
    )
    parser.add_argument(
        "--fit-workers",
        type=int,
        default=2,
        help="FIT_WORKERS of the backend, so that two fits run at once",
    )
    parser.add_argument("--memory-models", type=int, default=50)
    parser.add_argument("--inprocess-seconds", type=float, default=3)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench/results/latest.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args(argv)


def save_mlflow_model(pipeline_path: Path, model_dir: Path) -> None:
    """mlflow.sklearn.save_model, run by the bench venv's python (mlflow lives only there)."""
    script = REPO_ROOT / "bench" / "mlflow_model.py"
    subprocess.run(
        [str(MLFLOW_VENV / "bin" / "python"), str(script), str(pipeline_path), str(model_dir)],
        check=True,
        capture_output=True,
        text=True,
    )


def start_servers(
    work_dir: Path, data_dir: Path, fit_workers: int, servers: list[ServerProcess]
) -> tuple[ServerProcess, ServerProcess]:
    """MLflow's scoring server and our backend (which trains its default models first)."""
    mlflow = start_mlflow(work_dir, work_dir / "mlflow-model")
    servers.append(mlflow)
    env = backend_env(data_dir, default_models=True, fit_workers=fit_workers)
    ours = start_backend(work_dir, "backend", env)
    servers.append(ours)
    wait_http(mlflow, "/ping", 300)
    wait_http(ours, "/ready", 900)
    return mlflow, ours


def pin(server: ServerProcess, cpus: str | None) -> None:
    """Keep a server (every process it started, and every thread of each) on `cpus`, away
    from wrk's core.

    Affinity belongs to a thread, not a process: pinning only each process's main thread left
    the threads started before this call (the prediction-log writer, the executor's workers)
    free to run on wrk's core, so the server used two cores, took wrk's, and its threads
    fought the event loop for the GIL from the other core (1-text p99 70-140 ms instead of
    10-16 ms, measured). Threads started later inherit the pinned main thread's affinity.
    """
    if not cpus:
        return
    cores = {int(core) for core in cpus.split(",")}
    root = psutil.Process(server.process.pid)
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            for thread in process.threads():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(thread.id, cores)


def agreement(expected: list[object], got: list[object]) -> str:
    same = sum(1 for a, b in zip(expected, got, strict=True) if a == b)
    return f"{same}/{len(expected)}"


def load_cases(
    work_dir: Path, texts: list[str], model_id: str, ours: ServerProcess, mlflow: ServerProcess
) -> list[tuple[str, str, Path | None, int]]:
    """(key, url, bodies, texts per request) for each wrk run, ours then MLflow per case."""

    def bodies(name: str, per_request: int, body: BodyFn) -> Path:
        count = max(1, 1000 // per_request)
        return write_bodies(work_dir / f"{name}.jsonl", texts, per_request, body, count)

    predict_url, invocations_url = f"{ours.url}/api/v1/models/predict", f"{mlflow.url}/invocations"
    ours_invocations = f"{ours.url}/api/v1/models/{model_id}/invocations"
    return [
        ("ours_1", predict_url, bodies("ours_1", 1, ours_body(model_id)), 1),
        ("mlflow_1", invocations_url, bodies("mlflow_1", 1, mlflow_body), 1),
        ("ours_100", predict_url, bodies("ours_100", 100, ours_body(model_id)), 100),
        ("mlflow_100", invocations_url, bodies("mlflow_100", 100, mlflow_body), 100),
        ("oursmlf_1", ours_invocations, bodies("mlflow_1", 1, mlflow_body), 1),
        ("oursmlf_100", ours_invocations, bodies("mlflow_100", 100, mlflow_body), 100),
        ("ours_noop", f"{ours.url}/health", None, 1),
    ]


def wrk_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "threads": args.threads,
        "connections": args.connections,
        "cpus": None if args.no_pin else args.wrk_cpus,
    }


def run_loads(
    cases: list[tuple[str, str, Path | None, int]], args: argparse.Namespace
) -> dict[str, list[LoadResult]]:
    """Every case `args.runs` times, the runs interleaved so that drift hits all cases alike."""
    options = wrk_options(args)
    loads: dict[str, list[LoadResult]] = {key: [] for key, *_ in cases}
    for run_number in range(max(1, args.runs)):
        for key, url, bodies, per_request in cases:
            if args.warmup > 0:
                run_wrk(url, bodies, seconds=args.warmup, texts_per_request=per_request, **options)
            result = run_wrk(
                url, bodies, seconds=args.duration, texts_per_request=per_request, **options
            )
            loads[key].append(result)
            say(
                f"run {run_number + 1} wrk {key}: {result.req_per_s:,.0f} req/s, p99 "
                f"{result.p99_ms:.1f} ms, {result.errors} errors, others "
                f"{result.others_cores:.2f} cores ({result.busiest_other})"
            )
    return loads


def measure_two_workers(
    work_dir: Path,
    data_dir: Path,
    model_id: str,
    args: argparse.Namespace,
    servers: list[ServerProcess],
) -> list[LoadResult]:
    """The 100-text case on `--workers 2`: more processes are the way past one core."""
    env = backend_env(data_dir, default_models=True, fit_workers=1)
    backend = start_backend(work_dir, "backend-2-workers", env, workers=2)
    servers.append(backend)
    wait_http(backend, "/ready", 300)
    results = []
    try:
        options = {**wrk_options(args), "cpus": None}  # two workers take both cores anyway
        url = f"{backend.url}/api/v1/models/predict"
        bodies = work_dir / "ours_100.jsonl"
        run_wrk(url, bodies, seconds=max(args.warmup, 3), texts_per_request=100, **options)
        for _ in range(max(1, args.runs)):
            results.append(
                run_wrk(url, bodies, seconds=args.duration, texts_per_request=100, **options)
            )
            say(f"--workers 2, 100 texts: {results[-1].texts_per_s:,.0f} texts/s")
    finally:
        backend.stop()
    return results


def upload_copies(api: BackendApi, model_id: str, count: int) -> list[str]:
    """`count` distinct models holding the bench pipeline (uploaded skops copies of it)."""
    payload = api.download(model_id)
    return [api.upload_model(payload, f"bench-memory-{i}")["id"] for i in range(count)]


def measure_memory(
    work_dir: Path, data_dir: Path, model_ids: list[str], text: str, servers: list[ServerProcess]
) -> Memory:
    """A fresh backend on the same data, nothing preloaded: RSS per model, then the models
    of `model_ids` loaded and unloaded one after another."""
    env = backend_env(data_dir, default_models=False, fit_workers=1)
    backend = start_backend(work_dir, "backend-memory", env)
    servers.append(backend)
    wait_http(backend, "/ready", 300)
    api = BackendApi(backend.url)
    try:
        default_ids = [m["id"] for m in api.client.get("/api/v1/models").json() if m["is_default"]]
        base, per_default = default_model_memory(backend, api, text, sorted(default_ids))
        before, first, checkpoints = load_unload_memory(backend, api, model_ids, text)
    finally:
        api.close()
        backend.stop()
    return Memory(base, per_default, first, len(model_ids), before, checkpoints[-1][1], checkpoints)


def measure_inprocess(
    pipeline: Pipeline, split: Split, fit_s: float, args: argparse.Namespace
) -> InProcessFigures:
    figures = predict_figures(pipeline, split.test_texts, fit_s, args.inprocess_seconds)
    say(
        f"in-process: {figures.calls_per_s_1:,.0f} calls/s, {figures.texts_per_s_100:,.0f} "
        f"and {figures.texts_per_s_10k:,.0f} texts/s"
    )
    return figures


def measure_fits(
    api: BackendApi, dataset_id: str, split: Split, first_raw_s: float, repeats: int
) -> tuple[list[FitRun], float]:
    """API fits, each followed by a raw fit in this process (so that both see about the
    same machine); the fastest raw fit counts."""
    runs, raw = [], [first_raw_s]
    for _ in range(max(1, repeats)):
        runs.append(fit_through_api(api, dataset_id, "bench-pipeline", FIT_REQUEST))
        raw.append(timed_fit(split)[1])
    say(
        "API fits: "
        + ", ".join(f"{run.wall_s:.2f} s" for run in runs)
        + "; raw fits: "
        + ", ".join(f"{seconds:.2f} s" for seconds in raw)
    )
    return runs, min(raw)


def check_predictions(
    pipeline: Pipeline, texts: list[str], api: BackendApi, model_id: str, mlflow: ServerProcess
) -> dict[str, str]:
    expected = pipeline.predict(texts).tolist()
    return {
        "ours": agreement(expected, api.predict(model_id, texts)),
        "MLflow": agreement(expected, mlflow_predict(mlflow.url, texts)),
    }


def run(args: argparse.Namespace, work_dir: Path, servers: list[ServerProcess]) -> Results:
    load_at_start = load_average()
    split = load_split(args.csv)
    pipeline, fit_s = timed_fit(split)
    say(f"raw fit {fit_s:.2f} s on {len(split.train_texts)} rows")
    figures = measure_inprocess(pipeline, split, fit_s, args)
    joblib.dump(pipeline, work_dir / "pipeline.joblib")
    save_mlflow_model(work_dir / "pipeline.joblib", work_dir / "mlflow-model")
    data_dir = work_dir / "data"
    mlflow, ours = start_servers(work_dir, data_dir, args.fit_workers, servers)
    for server in (mlflow, ours):
        pin(server, None if args.no_pin else args.server_cpus)
    say("both servers ready")
    api = BackendApi(ours.url)
    dataset = api.upload_dataset(args.csv, "toxic_en")
    fits, raw_fit_s = measure_fits(api, dataset["id"], split, fit_s, args.fit_repeats)
    model_id = fits[0].model_id
    api.load(model_id)
    agreements = check_predictions(pipeline, split.test_texts[:500], api, model_id, mlflow)
    loads = run_loads(load_cases(work_dir, split.test_texts, model_id, ours, mlflow), args)
    mlflow_rss = rss_bytes(mlflow)
    mlflow.stop()
    figures = best_of(figures, measure_inprocess(pipeline, split, raw_fit_s, args))
    options = {**wrk_options(args), "seconds": args.duration}
    starved = starvation(
        api, f"{ours.url}/api/v1/models/predict", dataset["id"], work_dir / "ours_1.jsonl", options
    )
    say(f"starvation: p99 {starved.load.p99_ms:.1f} ms, fits ran {starved.coverage:.0%}")
    copies = upload_copies(api, model_id, args.memory_models)
    say(f"{len(copies)} copies of the model uploaded for the memory case")
    api.close()
    ours.stop()
    two_workers = measure_two_workers(work_dir, data_dir, model_id, args, servers)
    memory = measure_memory(work_dir, data_dir, copies, split.test_texts[0], servers)
    say(f"memory: growth {memory.growth:+.1%}")
    context = context_lines(args, len(split.train_texts), load_at_start, agreements)
    return Results(
        context,
        loads,
        figures,
        fits,
        starved,
        memory,
        mlflow_rss,
        train_rows=len(split.train_texts),
        two_workers=two_workers,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="toxiclf-bench-"))
    servers: list[ServerProcess] = []
    try:
        results = run(args, work_dir, servers)
    except Exception:
        print(f"bench failed; logs kept in {work_dir}", file=sys.stderr)
        args.keep = True
        raise
    finally:
        for server in servers:
            server.stop()
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    text = render(results)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    say(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
