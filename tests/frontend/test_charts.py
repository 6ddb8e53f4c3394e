"""Figures are built from plain tables, with the data and labels the pages promise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from frontend import charts, eda


def test_class_balance_bars_with_shares() -> None:
    figure = charts.class_balance({0: 30, 1: 70})
    assert list(figure.data[0].x) == ["0", "1"]
    assert figure.data[0].text[1] == "70 (70.0%)"


def test_roc_curves_put_auc_in_legend() -> None:
    figure = charts.roc_curves(
        [
            {"label": "a v1", "fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1], "auc": 0.91234},
            {"label": "b v2", "fpr": [0, 1], "tpr": [0, 1], "auc": None},
        ]
    )
    names = [trace.name for trace in figure.data]
    assert "a v1 (AUC = 0.912)" in names
    assert "b v2 (AUC n/a)" in names


def test_confusion_matrix_heatmap() -> None:
    figure = charts.confusion_matrix([[5, 1], [2, 7]], [0, 1])
    heatmap = figure.data[0]
    assert list(heatmap.x) == ["0", "1"]
    assert np.asarray(heatmap.z).tolist() == [[5, 1], [2, 7]]


def test_eda_figures_from_eda_tables() -> None:
    texts = pd.Series(["one two three.", "four five", "six! seven? eight", "nine"])
    labels = pd.Series(["a", "a", "b", "b"])
    binned = eda.histograms(eda.text_stats(texts), labels, bins=4)
    lengths = charts.length_histograms(binned)
    assert len(lengths.data) == 2 * len(eda.LENGTH_METRICS)
    ngrams = eda.top_ngrams(eda.tokenize(texts), labels, 1, top=3)
    bars = charts.top_ngrams(ngrams, 1)
    assert len(bars.data) == 2 and "unigrams" in bars.layout.title.text
    overview = charts.overview_bars(eda.class_overview(texts, labels))
    assert [trace.name for trace in overview.data] == ["rows", "duplicates"]
    pos = pd.DataFrame(
        {
            "class": ["a", "a", "b"],
            "pos": ["NOUN", "VERB", "NOUN"],
            "count": [2, 1, 3],
            "share": [2 / 3, 1 / 3, 1.0],
        }
    )
    pos_figure = charts.pos_shares(pos)
    assert list(pos_figure.data[0].x) == ["NOUN", "VERB"]
    assert list(pos_figure.data[1].y) == [1.0, 0.0]


def test_word_cloud_image() -> None:
    image = charts.word_cloud_image({"toxic": 10, "words": 5, "cloud": 2}, width=200, height=100)
    assert image.shape == (100, 200, 3)
    assert image.min() < 255  # something was drawn
    blank = charts.word_cloud_image({}, width=20, height=10)
    assert blank.shape == (10, 20, 3) and blank.min() == 255
