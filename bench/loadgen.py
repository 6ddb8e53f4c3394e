"""Load with wrk: write request bodies, run wrk with `post_bodies.lua`, read its summary."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

LUA_SCRIPT = Path(__file__).resolve().parent / "post_bodies.lua"

BodyFn = Callable[[list[str]], dict[str, Any]]


@dataclass(frozen=True)
class LoadResult:
    """One wrk run: throughput, latency percentiles and failed requests."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    texts_per_request: int
    others_cores: float = 0.0  # CPU the rest of the machine used meanwhile, in cores
    busiest_other: str = ""

    @property
    def req_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def texts_per_s(self) -> float:
        return self.req_per_s * self.texts_per_request


def ours_body(model_id: str) -> BodyFn:
    return lambda texts: {"model_id": model_id, "texts": texts}


def mlflow_body(texts: list[str]) -> dict[str, Any]:
    # `inputs` as a 1-D list: the model is saved with a 1-D string tensor signature, so the
    # pipeline receives an array of texts (a `dataframe_split` would also work with it).
    return {"inputs": texts}


def write_bodies(
    path: Path, texts: Sequence[str], per_request: int, body: BodyFn, count: int
) -> Path:
    """`count` JSON bodies of `per_request` texts each, cycling through `texts`."""
    lines = []
    for index in range(count):
        start = (index * per_request) % len(texts)
        chunk = [texts[(start + k) % len(texts)] for k in range(per_request)]
        lines.append(json.dumps(body(chunk), ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_wrk(
    url: str,
    bodies: Path | None,
    *,
    threads: int,
    connections: int,
    seconds: float,
    texts_per_request: int = 1,
    cpus: str | None = None,
) -> LoadResult:
    """Run wrk against `url` (POSTing `bodies` in turn, or GETs when None) and parse it.

    With `cpus` (e.g. "1"), wrk runs pinned there (taskset), off the server's core.
    """
    others_before = cpu_seconds_by_pid()
    command = [
        *(["taskset", "-c", cpus] if cpus else []),
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    if bodies is not None:
        command += ["--", str(bodies)]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=seconds + 60
    )
    summary = _summary(completed.stdout)
    if summary is None:
        raise RuntimeError(f"wrk gave no summary:\n{completed.stdout}\n{completed.stderr}")
    return _to_result(summary, texts_per_request, others_before)


def cpu_seconds_by_pid() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) each process has used so far, with its command name."""
    used = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info["cpu_times"]
        if times is not None:
            used[process.pid] = (process.info["name"] or "?", times.user + times.system)
    return used


def busiest_others(
    before: dict[int, tuple[str, float]], seconds: float, exclude: set[int]
) -> tuple[float, str]:
    """Cores used by processes in `before`/now other than `exclude`, and the busiest one."""
    after = cpu_seconds_by_pid()
    spent = {
        pid: (name, used - before.get(pid, (name, 0.0))[1])
        for pid, (name, used) in after.items()
        if pid not in exclude
    }
    total = sum(used for _, used in spent.values())
    busiest = max(spent.values(), key=lambda item: item[1], default=("-", 0.0))
    return total / seconds if seconds else 0.0, f"{busiest[0]} {busiest[1] / seconds:.2f}"


def _summary(stdout: str) -> dict[str, int] | None:
    for line in stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return dict(json.loads(line.removeprefix("WRK_JSON ")))
    return None


def _to_result(
    summary: dict[str, int], texts_per_request: int, others_before: dict[int, tuple[str, float]]
) -> LoadResult:
    errors = sum(v for k, v in summary.items() if k.startswith("errors_"))
    seconds = summary["duration_us"] / 1e6
    measured = {os.getpid(), *_load_processes()}
    others, busiest = busiest_others(others_before, seconds, measured)
    return LoadResult(
        requests=summary["requests"],
        seconds=seconds,
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        max_ms=summary["max_us"] / 1000,
        errors=errors,
        texts_per_request=texts_per_request,
        others_cores=others,
        busiest_other=busiest,
    )


def _load_processes() -> set[int]:
    """The servers under test and wrk: everything the bench itself started."""
    me = psutil.Process()
    return {child.pid for child in me.children(recursive=True)}


def wrk_version() -> str:
    completed = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    first = (completed.stdout or completed.stderr).strip().splitlines()
    return first[0].split(" [")[0] if first else "wrk (unknown version)"
