"""What a prediction means: label names (`1 · toxic`) and the positive class's score.

Pure functions of the backend's answers (ModelInfo's `label_names`, `classes`, `metrics`, and
predict_scores' `classes`, `scores`, `score_kind`), so they are tested without Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


def label_names(model: dict[str, Any] | None) -> dict[str, str]:
    """The model's `{"<label>": "<name>"}` mapping; empty when it does not know one."""
    names = (model or {}).get("label_names") or {}
    return {str(label): str(name) for label, name in names.items()}


def label_text(label: Any, names: dict[str, str]) -> str:
    """`1 · toxic` when the label has a name, else the label alone."""
    name = names.get(str(label))
    return f"{label} · {name}" if name else str(label)


def positive_class(classes: list[Any], model: dict[str, Any] | None) -> Any | None:
    """The class binary metrics call positive (the backend's `positive_label`, else the last
    sorted class, as API.md says); None for a model with more than two classes."""
    if len(classes) != 2:
        return None
    chosen = ((model or {}).get("metrics") or {}).get("positive_label")
    for label in classes:
        if chosen is not None and str(label) == str(chosen):
            return label
    return classes[-1]


@dataclass(frozen=True)
class ScoreBar:
    """The positive class's score as a column: its name and the bar's range."""

    column: str
    low: float
    high: float
    help: str


def score_bar(
    scores: list[list[float]], classes: list[Any], score_kind: str | None, model: dict[str, Any]
) -> tuple[list[float], ScoreBar] | None:
    """The positive class's score per text and how to draw it; None when not binary.

    A probability is drawn on [0, 1]. A decision function (unbounded, 0 at the boundary) is
    drawn on a range symmetric around 0, so the bar's middle is the model's boundary."""
    positive = positive_class(classes, model)
    if positive is None or not scores:
        return None
    index = classes.index(positive)
    values = [float(row[index]) for row in scores]
    name = label_names(model).get(str(positive)) or f"class {positive}"
    if score_kind == "probability":
        return values, ScoreBar(
            f"{name} score", 0.0, 1.0, f"probability of {label_text(positive, label_names(model))}"
        )
    reach = max((abs(value) for value in values), default=1.0) or 1.0
    return values, ScoreBar(
        f"{name} score",
        -reach,
        reach,
        f"decision function toward {label_text(positive, label_names(model))}: "
        "above 0 means this class",
    )


def shown_predictions(
    table: pd.DataFrame, scored: dict[str, Any], model: dict[str, Any]
) -> tuple[pd.DataFrame, ScoreBar | None]:
    """The Predict page's table as shown: labels with their names, the positive score as a
    bar column after the prediction, then the raw per-class scores (the CSV keeps raw labels)."""
    names = label_names(model)
    shown = table.copy()
    shown["prediction"] = [label_text(label, names) for label in table["prediction"]]
    bar = score_bar(
        scored.get("scores") or [], scored.get("classes") or [], scored.get("score_kind"), model
    )
    if bar is None:
        return shown, None
    values, spec = bar
    shown.insert(2, spec.column, values)
    return shown, spec


def prediction_summary(predictions: list[Any], names: dict[str, str]) -> str:
    """One line counting the predictions per label, most frequent first:
    `1 · toxic: 3 texts, 0 · not toxic: 1 text`."""
    counts = pd.Series([str(label) for label in predictions]).value_counts()
    return ", ".join(
        f"{label_text(label, names)}: {count} text{'s' if count != 1 else ''}"
        for label, count in counts.items()
    )
