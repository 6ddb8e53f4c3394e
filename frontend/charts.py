"""Plotly figures (and word-cloud images) from plain tables; no Streamlit, no HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

_PALETTE = ("#4C78A8", "#E45756", "#54A24B", "#F58518", "#B279A2", "#72B7B2", "#FF9DA6")
_METRIC_TITLES = {
    "characters": "Characters per text",
    "words": "Words per text",
    "sentences": "Sentences per text",
    "punctuation": "Punctuation marks per text",
}


def _color(index: int) -> str:
    return _PALETTE[index % len(_PALETTE)]


def class_balance(counts: Mapping[Any, int], title: str = "Class balance") -> go.Figure:
    """Bar chart of rows per class, with each class's share as the bar's text."""
    labels = [str(label) for label in counts]
    values = list(counts.values())
    total = max(sum(values), 1)
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=values,
            text=[f"{value:,} ({value / total:.1%})" for value in values],
            textposition="auto",
            marker_color=[_color(i) for i in range(len(labels))],
        )
    )
    figure.update_layout(
        title=title, xaxis_title="class", yaxis_title="rows", xaxis_type="category"
    )
    return figure


def overview_bars(overview: pd.DataFrame) -> go.Figure:
    """Rows and duplicates per class side by side (input: `eda.class_overview`)."""
    classes = overview["class"].astype(str)
    figure = go.Figure(
        [
            go.Bar(name="rows", x=classes, y=overview["rows"], marker_color=_color(0)),
            go.Bar(name="duplicates", x=classes, y=overview["duplicates"], marker_color=_color(1)),
        ]
    )
    figure.update_layout(
        title="Rows and duplicated texts per class", barmode="group", xaxis_type="category"
    )
    return figure


def length_histograms(binned: pd.DataFrame) -> go.Figure:
    """One panel per length metric, classes overlaid as shares (input: `eda.histograms`)."""
    metrics = list(dict.fromkeys(binned["metric"]))
    figure = make_subplots(
        rows=(len(metrics) + 1) // 2,
        cols=2,
        subplot_titles=[_METRIC_TITLES.get(m, m) for m in metrics],
        vertical_spacing=0.12,
    )
    classes = sorted(binned["class"].unique(), key=str)
    for position, metric in enumerate(metrics):
        row, col = position // 2 + 1, position % 2 + 1
        for index, label in enumerate(classes):
            part = binned[(binned["metric"] == metric) & (binned["class"] == label)]
            figure.add_trace(
                go.Bar(
                    x=(part["left"] + part["right"]) / 2,
                    y=part["share"],
                    width=(part["right"] - part["left"]),
                    name=f"class {label}",
                    legendgroup=str(label),
                    showlegend=position == 0,
                    marker_color=_color(index),
                    opacity=0.6,
                    hovertemplate="%{x:.0f}: %{y:.1%}<extra>class " + str(label) + "</extra>",
                ),
                row=row,
                col=col,
            )
    figure.update_layout(
        barmode="overlay",
        height=320 * ((len(metrics) + 1) // 2),
        title="Text length (share of texts)",
    )
    figure.update_yaxes(tickformat=".0%")
    return figure


def top_ngrams(ngrams: pd.DataFrame, n: int) -> go.Figure:
    """Horizontal bars of the most frequent n-grams, one panel per class."""
    classes = sorted(ngrams["class"].unique(), key=str)
    figure = make_subplots(
        rows=1,
        cols=max(len(classes), 1),
        subplot_titles=[f"class {label}" for label in classes],
        horizontal_spacing=0.25,
    )
    for index, label in enumerate(classes):
        part = ngrams[ngrams["class"] == label].iloc[::-1]
        figure.add_trace(
            go.Bar(
                x=part["count"],
                y=part["ngram"],
                orientation="h",
                name=f"class {label}",
                marker_color=_color(index),
                showlegend=False,
            ),
            row=1,
            col=index + 1,
        )
    name = {1: "unigrams", 2: "bigrams", 3: "trigrams"}.get(n, f"{n}-grams")
    rows_shown = int(ngrams.groupby("class").size().max()) if len(ngrams) else 0
    figure.update_layout(title=f"Top {name}", height=max(300, 22 * rows_shown + 120))
    return figure


def pos_shares(pos: pd.DataFrame) -> go.Figure:
    """Grouped bars: share of each part of speech per class (input: `eda.pos_distribution`)."""
    order = pos.groupby("pos")["share"].mean().sort_values(ascending=False).index.tolist()
    classes = sorted(pos["class"].unique(), key=str)
    figure = go.Figure()
    for index, label in enumerate(classes):
        shares = pos[pos["class"] == label].set_index("pos")["share"].reindex(order).fillna(0.0)
        figure.add_trace(
            go.Bar(x=order, y=shares, name=f"class {label}", marker_color=_color(index))
        )
    figure.update_layout(
        title="Parts of speech (share of tokens)", barmode="group", yaxis_tickformat=".0%"
    )
    return figure


def word_cloud_image(
    frequencies: Mapping[str, int],
    width: int = 640,
    height: int = 320,
    seed: int = 0,
    max_words: int = 100,
) -> np.ndarray:
    """An RGB array of a word cloud drawn from word counts (blank when there are none)."""
    from wordcloud import WordCloud

    if not frequencies:
        return np.full((height, width, 3), 255, dtype=np.uint8)
    # Layout time grows with words and font sizes tried: 100 words, a capped font size and
    # a coarser font step draw a cloud in ~0.3 s instead of ~1.3 s, with no visible loss.
    cloud = WordCloud(
        width=width,
        height=height,
        background_color="white",
        random_state=seed,
        max_words=min(len(frequencies), max_words),
        max_font_size=int(height * 0.35),
        font_step=2,
        relative_scaling=0.5,
    )
    return cloud.generate_from_frequencies(dict(frequencies)).to_array()


def roc_curves(curves: Sequence[Mapping[str, Any]]) -> go.Figure:
    """ROC curves overlaid, AUC in each legend entry.

    Each item: {"label": str, "fpr": [...], "tpr": [...], "auc": float | None}.
    """
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="chance (AUC = 0.500)",
            line={"dash": "dash", "color": "#999999"},
        )
    )
    for index, curve in enumerate(curves):
        auc = curve.get("auc")
        auc_text = f"AUC = {auc:.3f}" if isinstance(auc, int | float) else "AUC n/a"
        figure.add_trace(
            go.Scatter(
                x=list(curve["fpr"]),
                y=list(curve["tpr"]),
                mode="lines",
                name=f"{curve['label']} ({auc_text})",
                line={"color": _color(index), "width": 2},
            )
        )
    figure.update_layout(
        title="ROC curves",
        xaxis_title="False positive rate",
        yaxis_title="True positive rate",
        xaxis_range=[0, 1],
        yaxis_range=[0, 1.02],
        legend={"yanchor": "bottom", "y": 0.02, "xanchor": "right", "x": 0.98},
        height=520,
    )
    return figure


def confusion_matrix(
    matrix: Sequence[Sequence[int]], classes: Sequence[Any], title: str = "Confusion matrix"
) -> go.Figure:
    """Heatmap of counts, true class down, predicted class across."""
    labels = [str(label) for label in classes]
    values = np.asarray(matrix, dtype=float)
    if len(labels) != values.shape[0]:
        labels = [str(i) for i in range(values.shape[0])]
    figure = go.Figure(
        go.Heatmap(
            # Plain lists, not arrays: plotly would ship numpy arrays as base64 blobs.
            z=values.tolist(),
            x=labels,
            y=labels,
            text=values.astype(int).tolist(),
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        xaxis_title="predicted",
        yaxis_title="true",
        xaxis_type="category",
        yaxis_type="category",
        yaxis_autorange="reversed",
        height=340,
    )
    return figure


def metrics_bars(metrics: pd.DataFrame, columns: Sequence[str] | None = None) -> go.Figure:
    """Grouped bars of metrics per model (rows: models, index = model label)."""
    chosen = [c for c in (columns or metrics.columns) if c in metrics.columns]
    figure = go.Figure()
    for index, column in enumerate(chosen):
        figure.add_trace(
            go.Bar(
                x=metrics.index.astype(str),
                y=metrics[column],
                name=column,
                marker_color=_color(index),
            )
        )
    figure.update_layout(title="Metrics", barmode="group", yaxis_range=[0, 1])
    return figure


def pr_curves(
    curves: Sequence[Mapping[str, Any]],
    point: Mapping[str, float] | None = None,
    title: str = "Precision-recall curves",
) -> go.Figure:
    """Precision against recall, average precision in each legend entry; `point` (recall,
    precision) marks a chosen operating point.

    Each item: {"label": str, "precision": [...], "recall": [...], "ap": float | None}.
    """
    figure = go.Figure()
    for index, curve in enumerate(curves):
        ap = curve.get("ap")
        ap_text = f"AP = {ap:.3f}" if isinstance(ap, int | float) else "AP n/a"
        figure.add_trace(
            go.Scatter(
                x=list(curve["recall"]),
                y=list(curve["precision"]),
                mode="lines",
                name=f"{curve['label']} ({ap_text})",
                line={"color": _color(index), "width": 2, "shape": "hv"},
            )
        )
    if point is not None:
        figure.add_trace(
            go.Scatter(
                x=[point["recall"]],
                y=[point["precision"]],
                mode="markers",
                name="chosen threshold",
                marker={"size": 14, "color": "#dc2626", "symbol": "x"},
            )
        )
    figure.update_layout(
        title=title,
        xaxis_title="Recall",
        yaxis_title="Precision",
        xaxis_range=[0, 1.02],
        yaxis_range=[0, 1.02],
        legend={"yanchor": "bottom", "y": 0.02, "xanchor": "left", "x": 0.02},
        height=520,
    )
    return figure
