"""Render the benchmark's results as markdown: load table, in-process figures, targets, memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from inprocess import InProcessFigures
from loadgen import LoadResult
from scenarios import FitRun, Memory, Starvation

MB = 1024 * 1024


@dataclass
class Results:
    context: list[str]  # lines about the machine, versions, commit and settings
    runs: dict[str, list[LoadResult]]  # keys "ours_1", "mlflow_1", "ours_100", ...; per run
    inprocess: InProcessFigures
    fits: list[FitRun]
    starvation: Starvation | None
    memory: Memory | None
    mlflow_rss: int | None
    train_rows: int
    two_workers: list[LoadResult] = field(default_factory=list)

    @property
    def loads(self) -> dict[str, LoadResult]:
        """The median run of each case (by req/s)."""
        return {key: median(runs) for key, runs in self.runs.items() if runs}


def median(runs: list[LoadResult]) -> LoadResult:
    ordered = sorted(runs, key=lambda run: run.req_per_s)
    return ordered[(len(ordered) - 1) // 2]


def spread(runs: list[LoadResult]) -> str:
    if len(runs) < 2:
        return "1 run"
    low, high = min(r.req_per_s for r in runs), max(r.req_per_s for r in runs)
    return f"{len(runs)} runs, {low:,.0f}–{high:,.0f}"


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool
    verdict: str  # how far from the goal, either way


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}×" if theirs else "n/a"


def _load_rows(
    results: Results, label: str, ours_key: str, theirs_key: str, server: str = "ours"
) -> list[str]:
    ours = results.loads[ours_key]
    rows = [_load_row(label, server, ours, results.runs[ours_key])]
    theirs = results.loads.get(theirs_key)
    if theirs is not None:
        rows.append(_load_row(label, "MLflow", theirs, results.runs[theirs_key]))
        rows.append(
            f"| {label} | **ours/MLflow** | **{_ratio(ours.req_per_s, theirs.req_per_s)}** | "
            f"{_ratio(ours.texts_per_s, theirs.texts_per_s)} | {_ratio(ours.p50_ms, theirs.p50_ms)}"
            f" | {_ratio(ours.p99_ms, theirs.p99_ms)} | | | |"
        )
    return rows


def _load_row(
    label: str, server: str, load: LoadResult, runs: list[LoadResult] | None = None
) -> str:
    return (
        f"| {label} | {server} | {load.req_per_s:,.0f} | {load.texts_per_s:,.0f} | "
        f"{load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | "
        f"{spread(runs or [load])} | {load.others_cores:.2f} ({load.busiest_other}) |"
    )


def load_table(results: Results) -> list[str]:
    loads = results.loads
    lines = [
        "| case | server | req/s | texts/s | p50 ms | p99 ms | errors | runs, req/s "
        "min–max | other processes' CPU, cores (busiest) |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    lines += _load_rows(results, "1 text/request", "ours_1", "mlflow_1")
    lines += _load_rows(results, "100 texts/request", "ours_100", "mlflow_100")
    if "oursmlf_1" in loads:
        lines += _load_rows(
            results, "MLflow's format, 1 text", "oursmlf_1", "mlflow_1", server="ours /invocations"
        )
        lines += _load_rows(
            results,
            "MLflow's format, 100 texts",
            "oursmlf_100",
            "mlflow_100",
            server="ours /invocations",
        )
    if results.starvation is not None:
        lines.append(_load_row("1 text/request, 2 fits running", "ours", results.starvation.load))
    if results.two_workers:
        lines.append(
            _load_row(
                "100 texts/request, `--workers 2` (unpinned)",
                "ours",
                median(results.two_workers),
                results.two_workers,
            )
        )
    if "ours_noop" in loads:
        lines.append(
            _load_row(
                "GET /health (no work)", "ours", loads["ours_noop"], results.runs["ours_noop"]
            )
        )
    return lines


def inprocess_table(figures: InProcessFigures, train_rows: int) -> list[str]:
    return [
        "| pipeline, in this process (no HTTP) | figure |",
        "|---|---:|",
        f"| predict, 1 text per call | {figures.calls_per_s_1:,.0f} calls/s |",
        f"| predict, 100 texts per call | {figures.texts_per_s_100:,.0f} texts/s |",
        f"| predict, 10,000 texts per call | {figures.texts_per_s_10k:,.0f} texts/s |",
        f"| fit on the {train_rows:,} training rows (best of runs) | {figures.fit_s:.2f} s |",
    ]


def _at_least(name: str, goal: float, value: float, shown: Callable[[float], str]) -> Target:
    if value >= goal:
        verdict = f"met, {value / goal:.2f}× the goal"
    else:
        verdict = f"**missed**: needs {goal / value:.2f}× more" if value > 0 else "**missed**"
    return Target(name, f"≥ {shown(goal)}", shown(value), value >= goal, verdict)


def _at_most(name: str, limit: float, value: float, shown: Callable[[float], str]) -> Target:
    if value <= limit:
        verdict = f"met, at {value / limit:.0%} of the limit"
    else:
        verdict = f"**missed**: {value / limit:.2f}× the limit"
    return Target(name, f"≤ {shown(limit)}", shown(value), value <= limit, verdict)


def targets(results: Results) -> list[Target]:
    loads, found = results.loads, []
    times, ms, share = (lambda v: f"{v:.2f}×"), (lambda v: f"{v:.1f} ms"), (lambda v: f"{v:.0%}")
    if "mlflow_1" in loads:
        ratio = loads["ours_1"].req_per_s / loads["mlflow_1"].req_per_s
        found.append(_at_least("1 text: req/s ours ÷ MLflow", 6.0, ratio, times))
    found.append(_at_most("1 text: p99 latency", 10.0, loads["ours_1"].p99_ms, ms))
    if "mlflow_100" in loads:
        ratio = loads["ours_100"].req_per_s / loads["mlflow_100"].req_per_s
        found.append(_at_least("100 texts: req/s ours ÷ MLflow", 2.0, ratio, times))
    if "oursmlf_1" in loads and "mlflow_1" in loads:
        ratio = loads["oursmlf_1"].req_per_s / loads["mlflow_1"].req_per_s
        found.append(_at_least("MLflow's format, 1 text: ours ÷ MLflow (guide)", 6.0, ratio, times))
    in_process = loads["ours_100"].texts_per_s / results.inprocess.texts_per_s_100
    found.append(_at_least("100 texts: texts/s ÷ in-process (guide)", 0.9, in_process, share))
    if results.fits:
        best = min(run.wall_s for run in results.fits)
        limit = 1.15 * results.inprocess.fit_s + 0.5
        found.append(
            _at_most(
                "fit: submit → succeeded (1.15 × raw + 0.5 s)", limit, best, lambda v: f"{v:.2f} s"
            )
        )
    if results.starvation is not None:
        limit = 2 * loads["ours_1"].p99_ms
        found.append(
            _at_most(
                "1 text p99 while 2 fits run (2 × idle p99)",
                limit,
                results.starvation.load.p99_ms,
                ms,
            )
        )
    if results.memory is not None:
        found.append(
            _at_most(
                f"RSS growth after {results.memory.cycles} load/unload",
                0.10,
                max(results.memory.growth, 0.0),
                share,
            )
        )
    return found


def targets_table(found: list[Target]) -> list[str]:
    lines = ["| target | goal | measured | result |", "|---|---:|---:|---|"]
    for target in found:
        lines.append(f"| {target.name} | {target.goal} | {target.measured} | {target.verdict} |")
    return lines


def memory_table(memory: Memory, mlflow_rss: int | None) -> list[str]:
    lines = [
        "| resident memory (RSS) of the backend process | MB |",
        "|---|---:|",
        f"| no model in memory | {memory.base_rss / MB:.1f} |",
    ]
    lines += [
        f"| + default model `{model_id}` | +{added / MB:.1f} |"
        for model_id, added in memory.per_default_model.items()
    ]
    first_load = (memory.first_load_rss - memory.before_cycles_rss) / MB
    lines += [
        f"| + the bench model (the first of the row below), first load | +{first_load:.1f} |",
        f"| before {memory.cycles} models (copies of the bench model) are loaded and unloaded "
        f"in a row | {memory.before_cycles_rss / MB:.1f} |",
        f"| after them | {memory.after_cycles_rss / MB:.1f} ({memory.growth:+.1%}) |",
    ]
    steps = ", ".join(str(done) for done, _ in memory.checkpoints)
    path = " → ".join(f"{rss / MB:.0f}" for _, rss in memory.checkpoints)
    lines.append(f"| along the way, after {steps} models | {path} |")
    if mlflow_rss is not None:
        lines.append(
            f"| (MLflow's scoring server with the bench model, after its load) | "
            f"{mlflow_rss / MB:.1f} |"
        )
    return lines


def fit_lines(results: Results) -> list[str]:
    runs = ", ".join(f"{run.wall_s:.2f} s (server {run.server_s:.2f} s)" for run in results.fits)
    coverage = ""
    if results.starvation is not None:
        coverage = (
            f" During the starvation load, two slow fits were running at "
            f"{results.starvation.coverage:.0%} of the task samples (one per 0.25 s)."
        )
    return [
        f"Fits through the API, submit → task succeeded: {runs}; raw fit "
        f"{results.inprocess.fit_s:.2f} s.{coverage}"
    ]


def render(results: Results) -> str:
    sections = [
        ["# Benchmark: our backend vs MLflow's scoring server (issue 8)", ""],
        [f"- {line}" for line in results.context],
        [""],
        ["## Under load (wrk)", ""],
        load_table(results),
        [""],
        fit_lines(results),
        [""],
        ["## In-process", ""],
        inprocess_table(results.inprocess, results.train_rows),
        [""],
        ["## Targets", ""],
        targets_table(targets(results)),
        [""],
    ]
    if results.memory is not None:
        sections += [["## Memory", ""], memory_table(results.memory, results.mlflow_rss), [""]]
    return "\n".join(line for section in sections for line in section)
