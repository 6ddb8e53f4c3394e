"""Time each EDA step, and the whole EDA page, on the full toxic_en.csv (24,783 rows).

    NLTK_DATA=../shared/nltk_data python bench/eda_bench.py [--csv PATH] [--repeat N]

Each step is timed uncached (the cost of a first visit); the page is timed through
streamlit's AppTest twice: cold (empty st.cache_data) and warm (every later rerun).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
DEFAULT_CSV = REPO_ROOT.parent / "shared" / "data" / "toxic_en.csv"
if "NLTK_DATA" not in os.environ and (REPO_ROOT.parent / "shared" / "nltk_data").is_dir():
    os.environ["NLTK_DATA"] = str(REPO_ROOT.parent / "shared" / "nltk_data")

import pandas as pd  # noqa: E402

from frontend import charts, eda  # noqa: E402


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of `repeat` calls, and the last result."""
    durations, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), result


def bench_steps(frame: pd.DataFrame, repeat: int) -> list[tuple[str, float]]:
    """Each pure EDA function and figure builder, in page order."""
    texts, labels = frame["text"].astype(str), frame["label"].astype(str)
    rows: list[tuple[str, float]] = []

    def step(name: str, function: Callable[[], Any]) -> Any:
        seconds, result = timed(function, repeat)
        rows.append((name, seconds))
        return result

    status = step("check_nltk", eda.check_nltk)
    language = step("detect_language", lambda: eda.detect_language(texts))
    overview = step("class_overview", lambda: eda.class_overview(texts, labels))
    step("conflicting_duplicates", lambda: eda.conflicting_duplicates(texts, labels))
    step("chart overview_bars", lambda: charts.overview_bars(overview))
    stats = step("text_stats", lambda: eda.text_stats(texts))
    step("stats_summary", lambda: eda.stats_summary(stats, labels))
    binned = step("histograms", lambda: eda.histograms(stats, labels))
    step("chart length_histograms", lambda: charts.length_histograms(binned))
    stopwords = step("stopword_set", lambda: eda.stopword_set(language))
    tokens = step("tokenize", lambda: eda.tokenize(texts))
    ngrams = {}
    for n in (1, 2, 3):
        ngrams[n] = step(
            f"top_ngrams n={n}", lambda n=n: eda.top_ngrams(tokens, labels, n, 20, stopwords)
        )
        step(f"chart top_ngrams n={n}", lambda n=n: charts.top_ngrams(ngrams[n], n))
    cloud_words = step(
        "top_ngrams 100 (clouds)", lambda: eda.top_ngrams(tokens, labels, 1, 100, stopwords)
    )
    frequencies = eda.word_frequencies(cloud_words)
    step(
        "word_cloud_image x classes",
        lambda: [charts.word_cloud_image(words) for words in frequencies.values()],
    )
    sample_texts, sample_labels = step(
        f"sample_per_class {eda.POS_SAMPLE_DEFAULT}",
        lambda: eda.sample_per_class(texts, labels, eda.POS_SAMPLE_DEFAULT),
    )
    pos = step(
        "pos_distribution (sample)",
        lambda: eda.pos_distribution(sample_texts, sample_labels, language, status),
    )
    step("chart pos_shares", lambda: charts.pos_shares(pos))
    return rows


def bench_page(frame: pd.DataFrame) -> list[tuple[str, float]]:
    """The EDA page through AppTest: cold, then warm (cached)."""
    from streamlit.testing.v1 import AppTest

    os.environ.setdefault("BACKEND_URL", "http://127.0.0.1:9")  # the EDA page needs no backend
    at = AppTest.from_file(str(REPO_ROOT / "frontend" / "app.py"), default_timeout=300)
    at.session_state["uploaded_frame"] = {"name": "bench", "fingerprint": "bench", "frame": frame}
    at.run()
    at.switch_page("pages/eda.py")
    rows = []
    for label in ("EDA page, cold cache", "EDA page, warm cache"):
        started = time.perf_counter()
        at.run()
        rows.append((label, time.perf_counter() - started))
        if at.exception:
            raise SystemExit(f"EDA page failed: {at.exception}")
    return rows


def main() -> None:
    """Print a table of timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--repeat", type=int, default=1, help="median of N runs per step")
    parser.add_argument("--no-page", action="store_true", help="skip the AppTest page timing")
    args = parser.parse_args()

    frame = pd.read_csv(args.csv)
    print(f"{args.csv.name}: {len(frame):,} rows, NLTK_DATA={os.environ.get('NLTK_DATA')}")
    rows = bench_steps(frame, args.repeat)
    total = sum(seconds for _, seconds in rows)
    if not args.no_page:
        rows += bench_page(frame)
    width = max(len(name) for name, _ in rows)
    print(f"{'step':<{width}}  seconds")
    print(f"{'-' * width}  -------")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:7.3f}")
    print(f"{'sum of steps':<{width}}  {total:7.3f}")


if __name__ == "__main__":
    main()
