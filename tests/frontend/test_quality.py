"""frontend/quality.py: operating points, word highlights and the error table, without Streamlit."""

from __future__ import annotations

from frontend import quality

CURVE = {
    "thresholds": [0.9, 0.7, 0.5, 0.2],
    "precision": [1.0, 0.8, 0.6, 0.5],
    "recall": [0.25, 0.5, 0.75, 1.0],
    "flagged_per_1000": [125.0, 312.5, 625.0, 1000.0],
}


def test_slider_points_and_operating_points() -> None:
    assert quality.slider_indices(CURVE) == [0, 1, 2, 3]
    many = {"thresholds": [i / 1000 for i in range(1000, 0, -1)]}
    spread = quality.slider_indices(many, limit=50)
    assert len(spread) == 50 and spread[0] == 0 and spread[-1] == 999
    assert quality.nearest_index(CURVE, 0.55) == 2
    assert quality.nearest_index(CURVE, None) == 3
    assert quality.operating_point(CURVE, 1) == {
        "threshold": 0.7,
        "precision": 0.8,
        "recall": 0.5,
        "flagged_per_1000": 312.5,
    }


def test_highlights_point_toward_the_positive_class() -> None:
    explanation = {
        "label": 0,
        "score": 0.8,
        "tokens": [
            {"token": "lovely", "weight": 0.5},
            {"token": "you idiot", "weight": -0.4},
        ],
    }
    weights = quality.toward_positive(explanation, [0, 1], 1)
    assert weights == {"lovely": -0.5, "you idiot": 0.4}  # label 0: flipped toward class 1
    pieces = quality.word_weights("You lovely idiot!", weights)
    assert pieces == [
        ("You", 0.2),
        (" ", None),
        ("lovely", -0.5),
        (" ", None),
        ("idiot", 0.2),
        ("!", None),
    ]
    markup = quality.highlight_html(pieces + [("<b>", None)])
    assert markup.count('class="tw-word"') == 3
    assert "rgba(220,38,38" in markup and "rgba(22,163,74" in markup
    assert "&lt;b&gt;" in markup  # the text is escaped


def test_errors_sorted_filtered() -> None:
    texts = ["a", "b", "c", "d"]
    truth = ["1", "0", "1", "0"]
    explanations = [
        {"label": 0, "score": 0.6, "tokens": [{"token": "a", "weight": 0.1}]},
        {"label": 0, "score": 0.9, "tokens": []},
        {"label": 0, "score": 0.95, "tokens": []},
        {"label": 1, "score": 0.7, "tokens": [{"token": "d", "weight": 0.3}]},
    ]
    table = quality.misclassified(texts, truth, explanations)
    assert table["text"].tolist() == ["c", "d", "a"]
    assert table.loc[1, "why"] == "d (+0.300)"
    assert quality.filter_errors(table, true=["1"])["text"].tolist() == ["c", "a"]
    assert quality.filter_errors(table, predicted=["1"])["text"].tolist() == ["d"]
    assert len(quality.filter_errors(table)) == 3
