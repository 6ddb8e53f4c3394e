"""Label names, the positive score bar and task rows: pure functions, no Streamlit."""

from __future__ import annotations

import unicodedata

import pandas as pd

from frontend.labels import (
    label_text,
    positive_class,
    prediction_summary,
    score_bar,
    shown_predictions,
)
from frontend.task_rows import STATUS_SYMBOLS, model_titles, status_text, tasks_frame

TOXIC_MODEL = {"label_names": {"0": "not toxic", "1": "toxic"}, "metrics": {}}


def test_label_text_names_known_labels_only() -> None:
    names = TOXIC_MODEL["label_names"]
    assert label_text(1, names) == "1 · toxic" and label_text("0", names) == "0 · not toxic"
    assert label_text(2, names) == "2" and label_text("spam", {}) == "spam"


def test_positive_class_follows_the_backend() -> None:
    assert positive_class([0, 1], TOXIC_MODEL) == 1
    assert positive_class(["ham", "spam"], {"metrics": {"positive_label": "ham"}}) == "ham"
    assert positive_class([0, 1, 2], TOXIC_MODEL) is None


def test_probability_bar_is_the_toxic_score_on_0_to_1() -> None:
    values, bar = score_bar([[0.9, 0.1], [0.2, 0.8]], [0, 1], "probability", TOXIC_MODEL)
    assert values == [0.1, 0.8]
    assert (bar.column, bar.low, bar.high) == ("toxic score", 0.0, 1.0)


def test_decision_function_bar_is_centred_on_the_boundary() -> None:
    values, bar = score_bar([[1.5, -1.5], [-0.5, 0.5]], [0, 1], "decision_function", {})
    assert values == [-1.5, 0.5] and (bar.low, bar.high) == (-1.5, 1.5)
    assert bar.column == "class 1 score" and "above 0" in bar.help


def test_shown_predictions_name_labels_and_put_the_bar_next_to_them() -> None:
    table = pd.DataFrame(
        {
            "text": ["hi", "idiot"],
            "prediction": [0, 1],
            "score_0": [0.9, 0.3],
            "score_1": [0.1, 0.7],
        }
    )
    scored = {"classes": [0, 1], "scores": [[0.9, 0.1], [0.3, 0.7]], "score_kind": "probability"}
    shown, bar = shown_predictions(table, scored, TOXIC_MODEL)
    assert list(shown.columns) == ["text", "prediction", "toxic score", "score_0", "score_1"]
    assert shown["prediction"].tolist() == ["0 · not toxic", "1 · toxic"]
    assert shown["toxic score"].tolist() == [0.1, 0.7] and bar is not None
    assert table["prediction"].tolist() == [0, 1], "the CSV keeps the raw labels"
    multi = {"classes": [0, 1, 2], "scores": [[0.2, 0.3, 0.5]] * 2, "score_kind": "probability"}
    assert shown_predictions(table, multi, {})[1] is None


def test_task_rows_show_name_version_and_plain_status() -> None:
    titles = model_titles([{"id": "mdl_a", "name": "toxic", "version": 3}])
    tasks = [
        {"id": "t1", "status": "succeeded", "model_id": "mdl_a"},
        {"id": "t2", "status": "failed", "model_id": "mdl_gone"},
    ]
    table = tasks_frame(tasks, titles)
    assert table["model"].tolist() == ["toxic v3", "mdl_gone"]
    assert table["status"].tolist() == ["✓ succeeded", "✗ failed"]
    assert status_text("unknown") == "unknown"


def test_status_symbols_are_text_not_emoji() -> None:
    # Emoji-presentation characters (✅ U+2705, ❌ U+274C, 🕓, 🏃...) need a colour-emoji font;
    # these are text symbols from the Geometric Shapes, Math Operators and Dingbats (✓ ✗).
    for status, symbol in STATUS_SYMBOLS.items():
        assert len(symbol) == 1 and ord(symbol) < 0x2600 or symbol in "✓✗", status
        assert unicodedata.category(symbol) in {"So", "Sm"}, status


def test_prediction_summary_counts_named_labels() -> None:
    summary = prediction_summary([1, 0, 1], TOXIC_MODEL["label_names"])
    assert summary == "1 · toxic: 2 texts, 0 · not toxic: 1 text"
