"""Quality of each model kind and of `auto` (issue 15): macro-F1, fit time, serving speed.

    python bench/quality.py                      # every dataset in ../shared/data, 300 s auto
    python bench/quality.py --rows 8000 --budget 120 --datasets toxic_ru
    python bench/quality.py --write-readme       # also replace the table in README.md
    python bench/quality.py --datasets olid_proxy --kinds auto   # the OLID stand-in only

`olid_proxy` is the Davidson tweets in the format and offensive share of the held-out
OLID benchmark (see bench/olid_proxy.py: a stand-in, far easier than OLID itself).
Each dataset gets one stratified 80/20 split (seed 0). Every kind is fitted on the 80 % in
this process with one BLAS thread (as a fit worker runs) and scored on the 20 %: macro-F1 and
the toxic class's F1 at the model's own threshold (the largest score, or the tuned cut for
`auto` and the `+tuned` rows, which tune on out-of-fold scores of the 80 % only). Serving
speed is `predict_proba`/`decision_function` on 1,000 held-out texts in one call, in texts/s.
Figures depend on the machine's load; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from olid_proxy import olid_proxy  # noqa: E402
from readme_block import write_readme_block  # noqa: E402

from backend.ml.auto import auto_fit  # noqa: E402
from backend.ml.params import validate_params, validate_vectorizer  # noqa: E402
from backend.ml.pipeline import build_classifier, build_vectorizer  # noqa: E402
from backend.ml.threshold import decide, tune_on_training  # noqa: E402

DATA = REPO.parent / "shared" / "data"
WORD = {"ngram_range": [1, 2], "min_df": 2, "sublinear_tf": True}
UNION = {"type": "union"}
# (row name, model type, params, vectorizer, tune the threshold)
KINDS: list[tuple[str, str, dict[str, Any], dict[str, Any], bool]] = [
    ("logreg · word 1-2", "logreg", {"C": 4.0}, WORD, False),
    ("mnb · word 1-2", "mnb", {"alpha": 0.1}, WORD, False),
    ("svc · word 1-2", "svc", {"C": 0.5}, WORD, False),
    ("logreg · word 1-2 lemmatized", "logreg", {"C": 4.0}, {**WORD, "lemmatize": True}, False),
    ("logreg · union", "logreg", {"C": 8.0, "solver": "liblinear"}, UNION, False),
    ("svc calibrated · union", "svc", {"C": 0.3, "calibrate": True}, UNION, False),
    ("nbsvm · union", "nbsvm", {"C": 4.0}, UNION, False),
    ("nbsvm · union +tuned", "nbsvm", {"C": 4.0}, UNION, True),
]


def settings(params: dict[str, Any]) -> str:
    """The regularisation and smoothing of a chosen candidate, e.g. `C=4.0 alpha=0.1`."""
    return " ".join(f"{k}={params[k]}" for k in ("C", "alpha") if params.get(k) is not None)


def scores_per_second(pipeline: Any, texts: list[str]) -> float:
    sample = (texts * (1000 // max(1, len(texts)) + 1))[:1000]
    score = (
        pipeline.predict_proba
        if hasattr(pipeline, "predict_proba")
        else (pipeline.decision_function)
    )
    score(sample[:10])  # warm caches (e.g. the lemmatizer's dictionaries)
    started = time.perf_counter()
    score(sample)
    return len(sample) / (time.perf_counter() - started)


def measure(
    pipeline: Any, x_test: list[str], y_test: np.ndarray, positive: Any, threshold: float | None
) -> dict[str, float]:
    classes = np.asarray(pipeline.classes_).tolist()
    _, predicted, _ = decide(pipeline, x_test, classes, positive, threshold)
    return {
        "macro_f1": float(f1_score(y_test, predicted, average="macro")),
        "f1": float(f1_score(y_test, predicted, pos_label=positive)),
        "texts_s": scores_per_second(pipeline, x_test),
    }


def run_dataset(
    name: str, rows: int, budget: float, kinds: list[str] | None
) -> list[dict[str, Any]]:
    from sklearn.pipeline import Pipeline

    if name == "olid_proxy":  # Davidson tweets in OLID's format and balance (olid_proxy.py)
        frame = olid_proxy(DATA)
    else:
        frame = pd.read_csv(DATA / f"{name}.csv", keep_default_na=False)
    if rows and len(frame) > rows:
        frame = frame.sample(n=rows, random_state=0)
    x_train, x_test, y_train, y_test = train_test_split(
        frame["text"].tolist(),
        frame["label"].to_numpy(),
        test_size=0.2,
        random_state=0,
        stratify=frame["label"],
    )
    results = []
    for label, model_type, params, vectorizer, tune in KINDS:
        if kinds and model_type not in kinds:
            continue
        started = time.perf_counter()
        vec = build_vectorizer(validate_vectorizer(vectorizer))
        features = vec.fit_transform(x_train)
        classifier = build_classifier(model_type, validate_params(model_type, params), 42)
        classifier.fit(features, y_train)
        threshold = tune_on_training(classifier, features, y_train, 1, 42) if tune else None
        fit_s = time.perf_counter() - started
        pipeline = Pipeline([("vectorizer", vec), ("classifier", classifier)])
        results.append(
            {
                "dataset": name,
                "kind": label,
                "fit_s": fit_s,
                **measure(pipeline, x_test, y_test, 1, threshold),
            }
        )
        print(results[-1], flush=True)
    if not kinds or "auto" in kinds:
        started = time.perf_counter()
        result = auto_fit(x_train, y_train, 1, 42, budget, lambda _v, _s: None)
        fit_s = time.perf_counter() - started
        pipeline = Pipeline([("vectorizer", result.vectorizer), ("classifier", result.classifier)])
        chosen = result.chosen
        label = (
            f"**auto** ({budget:g} s) → {chosen['model_type']} {settings(chosen['params'])}"
            f", {chosen['candidates_tried']} tried"
        )
        results.append(
            {
                "dataset": name,
                "kind": label,
                "fit_s": fit_s,
                **measure(pipeline, x_test, y_test, 1, result.threshold),
            }
        )
        print(results[-1], flush=True)
    return results


def table(results: list[dict[str, Any]], header: str) -> str:
    lines = [
        header,
        "",
        "| dataset | kind · features | macro-F1 | F1 (toxic) | fit s | texts/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['dataset']} | {r['kind']} | {r['macro_f1']:.3f} | {r['f1']:.3f} | "
            f"{r['fit_s']:.1f} | {r['texts_s']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["olid_proxy", "toxic_en", "toxic_en_wiki", "toxic_ru"]
    )
    parser.add_argument("--rows", type=int, default=0, help="sample this many rows (0 = all)")
    parser.add_argument("--budget", type=float, default=300.0, help="auto's budget_s")
    parser.add_argument("--kinds", nargs="*", help="only these model types (and/or auto)")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with threadpool_limits(1):
        for name in args.datasets:
            results.extend(run_dataset(name, args.rows, args.budget, args.kinds))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    rows = f" --rows {args.rows}" if args.rows else ""
    header = (
        f"Measured by `python bench/quality.py{rows} --budget {args.budget:g}` on "
        f"{os.cpu_count()} cores (load average {load}), Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}; stratified 80/20 split, seed 0."
    )
    block = table(results, header)
    print(block)
    if args.write_readme:
        write_readme_block("quality-table", block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
