"""Headless use without a server.

    python -m backend.cli train --csv data.csv --model logreg --param C=4 \\
        --vectorizer ngram_range=1,2 --out model.skops
    python -m backend.cli predict --model model.skops --csv texts.csv --out predictions.csv
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backend.errors import AppError
from backend.ml.artifacts import (
    ArtifactError,
    atomic_write_bytes,
    dumps_portable,
    load_pipeline,
)
from backend.ml.params import PARAMS_BY_TYPE, validate_params, validate_vectorizer
from backend.ml.pipeline import score_matrix
from backend.ml.training import FitJob, run_fit
from backend.services.csv_import import import_csv, read_table
from toxiclf_csv import TEXT_COLUMN_NAMES


def _parse_pairs(pairs: list[str], what: str) -> dict[str, Any]:
    """`key=value` pairs; values parsed as JSON when they can be (numbers, true, null)."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise ValueError(f"--{what} takes key=value, got {pair!r}")
        if "," in raw and not raw.startswith("["):
            raw = f"[{raw}]"
        try:
            parsed[key] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key] = raw
    return parsed


def train(args: argparse.Namespace) -> int:
    table = import_csv(
        Path(args.csv),
        text_column=args.text_column,
        label_column=args.label_column,
        positive_label=args.positive_label,
    )
    params = validate_params(args.model, _parse_pairs(args.param, "param"))
    vectorizer = validate_vectorizer(_parse_pairs(args.vectorizer, "vectorizer"))
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as scratch:
        dataset = Path(scratch) / "dataset.csv"
        with dataset.open("w", encoding="utf-8", newline="") as handle:
            table.write_csv(handle)
        job = FitJob(
            task_id="cli",
            model_id=out.stem,
            dataset_path=str(dataset),
            label_kind=table.label_kind,
            model_type=args.model,
            params=params,
            vectorizer=vectorizer,
            test_size=args.test_size,
            random_state=args.random_state,
            artifact_path=str(out.resolve()),
            positive_label=table.positive_label,
        )
        outcome = run_fit(
            job, lambda value, stage: print(f"[{value:4.0%}] {stage}", file=sys.stderr)
        )
    # run_fit writes the server's compact storage form (vocabularies as arrays), which a plain
    # skops.io.load turns into a broken pipeline; the user gets a plain skops file.
    sha256 = atomic_write_bytes(
        out, dumps_portable(load_pipeline(out, expected_sha256=outcome.artifact_sha256))
    )
    print(
        json.dumps(
            {
                "model_file": str(out),
                "sha256": sha256,
                "classes": outcome.classes,
                "metrics": outcome.metrics,
            },
            indent=2,
        )
    )
    return 0


def predict(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(Path(args.model), expected_sha256=None)
    frame = read_table(Path(args.csv)).frame
    column = args.text_column or next(
        (c for c in frame.columns if c.strip().lower() in TEXT_COLUMN_NAMES),
        frame.columns[0],
    )
    if column not in frame.columns:
        raise AppError(
            f"column {column!r} is not in the file; its columns are {list(frame.columns)}"
        )
    texts = frame[column].astype(str).tolist()
    result = pd.DataFrame({"text": texts, "prediction": np.asarray(pipeline.predict(texts))})
    kind, scores = score_matrix(pipeline, texts)
    for index, label in enumerate(np.asarray(pipeline.classes_).tolist()):
        result[f"{'p' if kind == 'probability' else 'score'}_{label}"] = scores[:, index]
    result.to_csv(args.out, index=False)
    print(f"wrote {len(result)} predictions to {args.out}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backend.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser("train", help="train a pipeline from a CSV, write a skops file")
    fit.add_argument("--csv", required=True)
    fit.add_argument("--model", choices=sorted(PARAMS_BY_TYPE), default="logreg")
    fit.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    fit.add_argument("--vectorizer", action="append", default=[], metavar="KEY=VALUE")
    fit.add_argument("--text-column")
    fit.add_argument("--label-column")
    fit.add_argument("--positive-label")
    fit.add_argument("--test-size", type=float, default=0.2)
    fit.add_argument("--random-state", type=int, default=42)
    fit.add_argument("--out", default="model.skops")
    fit.set_defaults(run=train)

    use = commands.add_parser("predict", help="predict the texts of a CSV column")
    use.add_argument("--model", required=True, help="a skops file from train or a download")
    use.add_argument("--csv", required=True)
    use.add_argument("--text-column")
    use.add_argument("--out", default="predictions.csv")
    use.set_defaults(run=predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (AppError, ArtifactError) as exc:
        print(f"error: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a missing or unreadable --csv/--model, an unwritable --out
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
