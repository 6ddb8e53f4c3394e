"""Figures of the Monitor page from drift reports (GET /models/{id}/drift).

No Streamlit, no HTTP: plain data in, Plotly figures out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

REFERENCE_COLOR, LIVE_COLOR, LINE_COLOR = "#9AA5B1", "#4C78A8", "#E45756"
BADGES = {"ok": ("OK", "green"), "drift": ("DRIFT", "red"), "too_few": ("TOO FEW", "gray")}


def badge(status: str) -> tuple[str, str]:
    """The text and color of a drift status badge."""
    return BADGES.get(status, (status.upper(), "gray"))


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Readable names of the bins `edges` cut: ≤ e0, e0–e1, …, > e_last."""
    if not edges:
        return ["all"]
    points = [f"{edge:.3g}" for edge in edges]
    inner = [f"{a}–{b}" for a, b in zip(points, points[1:], strict=False)]
    return [f"≤ {points[0]}", *inner, f"> {points[-1]}"]


def hourly_bars(hourly: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Predictions per hour."""
    frame = pd.DataFrame(list(hourly) or [], columns=["hour", "n"])
    figure = go.Figure(
        go.Bar(
            x=pd.to_datetime(frame["hour"]),
            y=frame["n"],
            marker_color=LIVE_COLOR,
            name="predictions",
        )
    )
    figure.update_layout(
        title="Predictions per hour",
        xaxis_title="hour (UTC)",
        yaxis_title="predictions",
        height=300,
        margin={"t": 40, "b": 30},
    )
    return figure


def histogram_over_reference(name: str, feature: Mapping[str, Any]) -> go.Figure:
    """A feature's live histogram next to its reference (validation split), same bins."""
    labels = feature.get("categories") or bin_labels(feature.get("edges") or [])
    figure = go.Figure(
        [
            go.Bar(
                x=labels,
                y=feature["reference"],
                name="reference (validation)",
                marker_color=REFERENCE_COLOR,
            ),
            go.Bar(x=labels, y=feature["current"], name="live", marker_color=LIVE_COLOR),
        ]
    )
    figure.update_layout(
        title=f"{name}: live over reference (PSI {feature['psi']:.3f})",
        barmode="group",
        yaxis_title="share",
        height=320,
        margin={"t": 40, "b": 30},
        legend={"orientation": "h"},
    )
    return figure


def psi_series(reports: Sequence[tuple[str, Mapping[str, Any]]]) -> pd.DataFrame:
    """Long table time × feature × PSI from (window end, report) pairs; empty windows left out."""
    rows = [
        {"time": pd.Timestamp(end), "feature": name, "psi": feature["psi"]}
        for end, report in reports
        if report.get("n")
        for name, feature in report.get("features", {}).items()
    ]
    return pd.DataFrame(rows, columns=["time", "feature", "psi"])


def psi_lines(series: pd.DataFrame, threshold: float) -> go.Figure:
    """PSI per feature over time, with the drift threshold as a dashed line."""
    figure = go.Figure()
    for name, part in series.groupby("feature", sort=True):
        figure.add_trace(
            go.Scatter(x=part["time"], y=part["psi"], mode="lines+markers", name=str(name))
        )
    figure.add_hline(
        y=threshold,
        line_dash="dash",
        line_color=LINE_COLOR,
        annotation_text=f"threshold {threshold:g}",
    )
    figure.update_layout(
        title="PSI per feature over time",
        yaxis_title="PSI",
        xaxis_title="window end (UTC)",
        height=340,
        margin={"t": 40, "b": 30},
    )
    return figure
