"""Probe the default models (issue 14): their toxic score on ordinary and abusive sentences.

    python bench/probe_defaults.py                  # train as a first start does, print
    python bench/probe_defaults.py --write-readme   # also replace the table in README.md
    python bench/probe_defaults.py --rows 4000      # as the tests' servers (DEFAULT_MODELS_ROWS)

The default models are trained exactly as the server trains them on first start (same specs,
same bundled data, same single-process fit), and the time that takes is printed with the
table. The toxic score is the probability of label 1; the label the model gives is bold when
it says toxic (every default model decides at 0.5).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from readme_block import write_readme_block  # noqa: E402

from backend.ml.artifacts import load_pipeline  # noqa: E402
from backend.ml.params import validate_params, validate_vectorizer  # noqa: E402
from backend.ml.training import FitJob, fit_quietly  # noqa: E402
from backend.services.defaults import DEFAULT_SPECS, DEFAULT_VECTORIZER, WIKI_CSV  # noqa: E402

PROBES = [
    "you are a wonderful person",
    "I disagree with your point about taxes",
    "Thanks for fixing the citation, the article reads much better now.",
    "Could you add a source for the population figure?",
    "I think this section should be merged into the history article.",
    "Have a nice day!",
    "you are an idiot",
    "shut up, you stupid moron",
    "Go to hell, nobody wants your garbage edits.",
    "What a pathetic loser you are.",
    "fuck off",
    "I will find you and hurt you",
]


def train_defaults(rows: int, workdir: Path) -> tuple[dict[str, object], float, dict[str, float]]:
    vectorizer = validate_vectorizer(DEFAULT_VECTORIZER)
    jobs = [
        FitJob(
            task_id=spec.model_id,
            model_id=spec.model_id,
            dataset_path=str(WIKI_CSV),
            label_kind="int",
            model_type=spec.model_type,
            params=validate_params(spec.model_type, spec.params),
            vectorizer=vectorizer,
            test_size=0.2,
            random_state=42,
            artifact_path=str(workdir / f"{spec.model_id}.skops"),
            max_rows=rows,
        )
        for spec in DEFAULT_SPECS
    ]
    started = time.perf_counter()
    outcomes = fit_quietly(jobs)
    seconds = time.perf_counter() - started
    models = {
        job.model_id: load_pipeline(Path(job.artifact_path), outcome.artifact_sha256)
        for job, outcome in zip(jobs, outcomes, strict=True)
    }
    quality = {
        job.model_id: outcome.metrics["macro_f1"]
        for job, outcome in zip(jobs, outcomes, strict=True)
    }
    return models, seconds, quality


def table(models: dict[str, object], seconds: float, quality: dict[str, float], rows: int) -> str:
    names = list(models)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        f"Measured by `python bench/probe_defaults.py{f' --rows {rows}' if rows else ''}`: "
        f"training the three default models took {seconds:.0f} s in one process on "
        f"{os.cpu_count()} cores (load average {load}); macro-F1 on their held-out 20%: "
        + ", ".join(f"{n} {quality[n]:.3f}" for n in names)
        + ".",
        "",
        "| text | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    scores = {n: m.predict_proba(PROBES)[:, 1] for n, m in models.items()}  # type: ignore[attr-defined]
    for i, text in enumerate(PROBES):
        cells = [
            f"**{scores[n][i]:.2f}**" if scores[n][i] >= 0.5 else f"{scores[n][i]:.2f}"
            for n in names
        ]
        lines.append(f"| {text} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=0, help="DEFAULT_MODELS_ROWS (0 = all)")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        models, seconds, quality = train_defaults(args.rows, Path(workdir))
    block = table(models, seconds, quality, args.rows)
    print(block)
    if args.write_readme:
        write_readme_block("probe-table", block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
