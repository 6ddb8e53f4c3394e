"""The drift numbers (ml/drift.py) on a real fitted pipeline, and the Monitor page's figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backend.ml import drift
from backend.ml.pipeline import build_pipeline, score_matrix
from frontend import monitor_charts
from tests.conftest import TOXIC_EN, TOXIC_RU


@pytest.fixture(scope="module")
def fitted() -> tuple[object, list[str], np.ndarray]:
    frame = pd.read_csv(TOXIC_EN, keep_default_na=False).sample(3000, random_state=0)
    pipeline = build_pipeline(
        "logreg",
        {"C": 4.0},
        {"type": "tfidf", "ngram_range": [1, 2], "min_df": 2, "sublinear_tf": False},
    )
    pipeline.fit(frame["text"][:2400].tolist(), frame["label"][:2400])
    return pipeline, frame["text"][2400:].tolist(), frame["label"][2400:].to_numpy()


def test_psi_is_zero_for_equal_histograms_and_grows_with_the_shift() -> None:
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    small, large = drift.psi([0.5, 0.5], [0.45, 0.55]), drift.psi([0.5, 0.5], [0.05, 0.95])
    assert 0 < small < 0.1 < drift.psi([0.5, 0.5], [0.2, 0.8]) < large
    assert np.isfinite(drift.psi([1.0, 0.0], [0.0, 1.0]))  # empty bins stay finite


def test_bins_follow_the_reference_deciles() -> None:
    values = np.arange(1000, dtype=np.float32)
    edges = drift.numeric_edges(values)
    assert len(edges) == 9
    assert drift.numeric_shares(values, edges) == pytest.approx([0.1] * 10, abs=0.002)
    zeros = np.zeros(100, dtype=np.float32)  # a feature that sits at 0 makes one edge
    assert drift.numeric_edges(zeros) == [0.0]
    assert drift.numeric_shares(zeros, [0.0]) == [1.0, 0.0]
    with_nan = np.array([np.nan, 1.0, 2.0], dtype=np.float32)
    assert sum(drift.numeric_shares(with_nan, [1.5])) == pytest.approx(1.0)


def test_oov_share_of_english_and_russian(fitted: tuple[object, list[str], np.ndarray]) -> None:
    pipeline, texts, _labels = fitted
    meter = drift.OovMeter(pipeline)
    assert meter.available
    english = meter.shares(texts).mean()
    russian = meter.shares(pd.read_csv(TOXIC_RU)["text"].head(200).tolist()).mean()
    assert english < 0.35 < 0.9 < russian
    assert meter.shares(["", "!!!"]).tolist() == [1.0, 1.0]  # no token: nothing known
    known = next(term for term in pipeline[0].vocabulary_ if " " not in term)
    assert meter.shares([f"{known} {known}"])[0] == 0.0
    assert meter.shares([f"{known} qqqzzzxxy"])[0] == 0.5


def test_live_oov_sample_leaves_the_rest_unmeasured(
    fitted: tuple[object, list[str], np.ndarray],
) -> None:
    pipeline, texts, _labels = fitted
    batch = texts[:50]
    rows = drift.feature_rows(drift.OovMeter(pipeline), batch, score_matrix(pipeline, batch)[1], 8)
    assert np.isfinite(rows[:, drift.OOV]).sum() == 8
    assert rows[:, drift.LENGTH].tolist() == [len(t) for t in batch]
    assert drift.unpack([drift.pack(rows[:20]), drift.pack(rows[20:])], rows.shape[1]).shape == (
        50,
        rows.shape[1],
    )


def test_a_batch_of_calls_gives_each_call_its_own_rows(
    fitted: tuple[object, list[str], np.ndarray],
) -> None:
    """The log's writer computes a whole batch of calls at once: the stacked rows must be
    each call's own rows, with the OOV sample taken per call (not over the batch)."""
    pipeline, texts, _labels = fitted
    meter = drift.OovMeter(pipeline)
    sizes = [1, 30, 3, 12, 1]
    calls, start = [], 0
    for size in sizes:
        batch = texts[start : start + size]
        scores = score_matrix(pipeline, batch)[1]
        calls.append((batch, scores if size % 2 else scores.tolist()))  # arrays and lists
        start += size
    stacked = drift.calls_feature_rows(meter, calls, 8)
    one_by_one = np.concatenate([drift.feature_rows(meter, t, s, 8) for t, s in calls])
    np.testing.assert_array_equal(stacked, one_by_one)
    measured = np.isfinite(stacked[:, drift.OOV])
    assert measured.sum() == 1 + 8 + 3 + 8 + 1
    assert measured[1] and measured[30]  # a sampled call keeps both of its ends
    everything = drift.calls_feature_rows(meter, calls)
    assert np.isfinite(everything[:, drift.OOV]).all()


def test_profile_and_compare(fitted: tuple[object, list[str], np.ndarray]) -> None:
    pipeline, texts, labels = fitted
    classes = [0, 1]
    meter = drift.OovMeter(pipeline)
    scores = score_matrix(pipeline, texts)[1]
    profile = drift.reference_profile(meter, texts, scores, classes, labels)
    assert set(profile["features"]) == {"length", "oov_share", "score", "predicted_class"}
    assert set(profile["score_by_true_class"]["score"]) == {"0", "1"}
    same = drift.compare(profile, drift.feature_rows(meter, texts, scores))
    assert all(feature["psi"] < 1e-9 for feature in same.values())
    russian = pd.read_csv(TOXIC_RU)["text"].head(300).tolist()
    shifted = drift.compare(
        profile, drift.feature_rows(meter, russian, score_matrix(pipeline, russian)[1])
    )
    assert max(shifted, key=lambda name: shifted[name]["psi"]) == "oov_share"
    empty = drift.compare(profile, np.empty((0, 4), dtype=np.float32))
    assert all(feature["psi"] == 0.0 for feature in empty.values())


def test_monitor_figures() -> None:
    assert monitor_charts.badge("drift") == ("DRIFT", "red")
    assert monitor_charts.bin_labels([0.5, 1.0]) == ["≤ 0.5", "0.5–1", "> 1"]
    hourly = monitor_charts.hourly_bars([{"hour": "2026-12-01T10:00:00.000Z", "n": 5}])
    assert list(hourly.data[0].y) == [5]
    feature = {"psi": 0.3, "reference": [0.5, 0.5], "current": [0.2, 0.8], "edges": [0.5]}
    histogram = monitor_charts.histogram_over_reference("score", feature)
    assert [trace.name for trace in histogram.data] == ["reference (validation)", "live"]
    reports = [
        ("2026-12-01T10:00:00", {"n": 10, "features": {"score": {"psi": 0.3}}}),
        ("2026-12-01T11:00:00", {"n": 0, "features": {"score": {"psi": 0.0}}}),
    ]
    series = monitor_charts.psi_series(reports)
    assert series["psi"].tolist() == [0.3]  # an empty window is left out
    lines = monitor_charts.psi_lines(series, 0.25)
    assert lines.layout.shapes[0].y0 == 0.25
