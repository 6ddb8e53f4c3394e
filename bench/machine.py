"""What a result depends on: the machine, its load, the versions and the commit measured."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version

import psutil
from loadgen import wrk_version
from servers import MLFLOW_VENV, REPO_ROOT


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _run(command: list[str]) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    return completed.stdout.strip()


def commit() -> str:
    """The commit measured, and whether the backend's working tree differs from it."""
    sha = _run(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = _run(["git", "status", "--porcelain", "--", "backend"])
    return f"`{sha}`" + (" + uncommitted changes in backend/" if dirty else "")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def mlflow_version() -> str:
    code = "from importlib.metadata import version; print(version('mlflow'))"
    return _run([str(MLFLOW_VENV / "bin" / "python"), "-c", code]) or "unknown"


def versions() -> str:
    ours = ", ".join(
        f"{name} {version(name)}" for name in ("scikit-learn", "numpy", "fastapi", "uvicorn")
    )
    return (
        f"Python {platform.python_version()}, {ours}; MLflow {mlflow_version()} "
        f"(bench/.venv-mlflow); {wrk_version()}"
    )


def context_lines(
    args: argparse.Namespace, train_rows: int, load_at_start: str, agreements: dict[str, str]
) -> list[str]:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cores = _run(["nproc"]) or str(os.cpu_count())
    memory_gb = psutil.virtual_memory().total / 1024**3
    agree = ", ".join(f"{server} {share}" for server, share in agreements.items())
    return [
        f"Measured {now} at commit {commit()} with `bench/run.sh`.",
        f"Machine: {cores} cores (`nproc`), {cpu_model()}, {memory_gb:.0f} GB RAM; load "
        f"average {load_at_start} at start, {load_average()} at end (anything else running "
        "shows in every figure; compare within one run).",
        f"Versions: {versions()}.",
        "Pipeline: TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True) + "
        f"LogisticRegression(max_iter=1000) on {args.csv.name}, {train_rows:,} training rows "
        "(the stratified 80 % split our fit task uses, random_state 42).",
        f"Load: `wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency` per "
        f"case after a {args.warmup:g} s warm-up, {args.runs} runs per case interleaved (the "
        "median counts). "
        + (
            "Nothing pinned. "
            if args.no_pin
            else f"Servers pinned to core(s) {args.server_cpus}, wrk to {args.wrk_cpus} (taskset). "
        )
        + "Ours: `uvicorn backend.main:app --workers 1`, "
        f"DEFAULT_MODELS=true, FIT_WORKERS={args.fit_workers}, SQLite, open API, "
        "POST /api/v1/models/predict. MLflow: `mlflow models serve --env-manager local -w 1`, "
        'POST /invocations `{"inputs": [...]}`.',
        f"Predictions equal to the in-process pipeline's on 500 held-out texts: {agree}.",
    ]
