"""The pipeline of issue 8 in this process: data, raw fit time, predict throughput."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

TEST_SIZE = 0.2
RANDOM_STATE = 42
# The same pipeline as a request to POST /api/v1/models/fit.
FIT_REQUEST: dict[str, Any] = {
    "model_type": "logreg",
    "params": {"C": 1.0, "max_iter": 1000},
    "vectorizer": {"type": "tfidf", "ngram_range": [1, 2], "min_df": 2, "sublinear_tf": True},
    "test_size": TEST_SIZE,
    "random_state": RANDOM_STATE,
}


@dataclass(frozen=True)
class Split:
    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]


@dataclass(frozen=True)
class InProcessFigures:
    fit_s: float
    calls_per_s_1: float
    texts_per_s_100: float
    texts_per_s_10k: float


def build_pipeline() -> Pipeline:
    return Pipeline(
        [
            ("vectorizer", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
            ("classifier", LogisticRegression(max_iter=1000, random_state=RANDOM_STATE)),
        ]
    )


def load_split(csv_path: Path) -> Split:
    """The rows the backend keeps (non-empty text and label), split as its fit task splits."""
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8")
    frame = frame[(frame["text"].str.strip() != "") & (frame["label"].str.strip() != "")]
    labels = frame["label"].astype(np.int64).to_numpy()
    x_train, x_test, y_train, _ = train_test_split(
        frame["text"].tolist(),
        labels,
        test_size=TEST_SIZE,
        random_state=RANDOM_STATE,
        stratify=labels,
    )
    return Split(list(x_train), np.asarray(y_train), list(x_test))


def timed_fit(split: Split) -> tuple[Pipeline, float]:
    pipeline = build_pipeline()
    started = time.perf_counter()
    pipeline.fit(split.train_texts, split.train_labels)
    return pipeline, time.perf_counter() - started


def calls_per_second(call: Callable[[], object], budget_s: float, windows: int = 5) -> float:
    """How many times `call` runs per second: the best of `windows` windows over about
    `budget_s` seconds, so that a burst of other work on the machine counts least."""
    call()  # warm-up
    rates = []
    for _ in range(windows):
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < budget_s / windows or not calls:
            call()
            calls += 1
        rates.append(calls / elapsed)
    return max(rates)


def best_of(first: InProcessFigures, second: InProcessFigures) -> InProcessFigures:
    """The better of two measurements of each figure."""
    return InProcessFigures(
        fit_s=min(first.fit_s, second.fit_s),
        calls_per_s_1=max(first.calls_per_s_1, second.calls_per_s_1),
        texts_per_s_100=max(first.texts_per_s_100, second.texts_per_s_100),
        texts_per_s_10k=max(first.texts_per_s_10k, second.texts_per_s_10k),
    )


def predict_figures(
    pipeline: Pipeline, texts: list[str], fit_s: float, budget_s: float
) -> InProcessFigures:
    """pipeline.predict calls/s on 1 text, and texts/s in batches of 100 and 10,000."""
    big = (texts * (10_000 // len(texts) + 1))[:10_000]
    single = [0]

    def one_text() -> None:
        single[0] = (single[0] + 1) % len(texts)
        pipeline.predict([texts[single[0]]])

    return InProcessFigures(
        fit_s=fit_s,
        calls_per_s_1=calls_per_second(one_text, budget_s),
        texts_per_s_100=100 * calls_per_second(lambda: pipeline.predict(texts[:100]), budget_s),
        texts_per_s_10k=10_000 * calls_per_second(lambda: pipeline.predict(big), budget_s),
    )
