"""Pure logic of the quality views: operating points on a held-out PR curve, word highlights
from explanations, and the table of misclassified texts. No Streamlit here (testable alone).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

# Red toward the positive ("toxic") class, green toward the other one.
TOWARD_POSITIVE = (220, 38, 38)
TOWARD_NEGATIVE = (22, 163, 74)
_WORD = re.compile(r"\w+", re.UNICODE)
SLIDER_POINTS = 200  # a slider with every held-out cut would be too fine to drag


def slider_indices(curve: Mapping[str, Sequence[float]], limit: int = SLIDER_POINTS) -> list[int]:
    """Indices of curve points for a slider: every point up to `limit`, else evenly spread
    (first and last kept), from the strictest cut to the loosest."""
    count = len(curve.get("thresholds") or [])
    if count <= limit:
        return list(range(count))
    step = (count - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def nearest_index(curve: Mapping[str, Sequence[float]], threshold: float | None) -> int:
    """The curve point whose cut is closest to `threshold` (the loosest cut when None)."""
    cuts = list(curve.get("thresholds") or [])
    if not cuts:
        return 0
    if threshold is None:
        return len(cuts) - 1
    return min(range(len(cuts)), key=lambda i: (abs(cuts[i] - threshold), i))


def operating_point(curve: Mapping[str, Sequence[float]], index: int) -> dict[str, float]:
    """Threshold, precision, recall and flagged texts per 1,000 at one curve point."""
    return {
        "threshold": float(curve["thresholds"][index]),
        "precision": float(curve["precision"][index]),
        "recall": float(curve["recall"][index]),
        "flagged_per_1000": float(curve["flagged_per_1000"][index]),
    }


def toward_positive(
    explanation: Mapping[str, Any], classes: Sequence[Any], positive: Any
) -> dict[str, float]:
    """Token → weight toward the positive class (binary models: a push toward the other label
    is a push away from the positive one). For more classes, weights toward the text's label."""
    sign = 1.0
    if len(classes) == 2 and str(explanation.get("label")) != str(positive):
        sign = -1.0
    return {str(t["token"]): sign * float(t["weight"]) for t in explanation.get("tokens") or []}


def word_weights(text: str, token_weights: Mapping[str, float]) -> list[tuple[str, float | None]]:
    """The text cut into words and the gaps between them; each word with its weight.

    A word's weight is its own token's plus an equal share of every n-gram token holding it;
    words the explanation does not mention, and gaps, carry None."""
    per_word: dict[str, float] = {}
    for token, weight in token_weights.items():
        parts = token.lower().split()
        for part in parts:
            per_word[part] = per_word.get(part, 0.0) + weight / len(parts)
    pieces: list[tuple[str, float | None]] = []
    position = 0
    for match in _WORD.finditer(text):
        if match.start() > position:
            pieces.append((text[position : match.start()], None))
        word = match.group(0)
        pieces.append((word, per_word.get(word.lower())))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces


def highlight_html(pieces: Sequence[tuple[str, float | None]], scale: float | None = None) -> str:
    """HTML of the text with words tinted by weight: red toward positive, green away."""
    weights = [abs(w) for _piece, w in pieces if w]
    scale = scale or (max(weights) if weights else 1.0)
    spans = []
    for piece, weight in pieces:
        escaped = html.escape(piece)
        if not weight:
            spans.append(escaped)
            continue
        red, green, blue = TOWARD_POSITIVE if weight > 0 else TOWARD_NEGATIVE
        alpha = 0.15 + 0.7 * min(abs(weight) / scale, 1.0)
        direction = "toward" if weight > 0 else "away from"
        spans.append(
            f'<span class="tw-word" data-weight="{weight:.4f}" '
            f'title="{weight:+.3f} {direction} the positive class" '
            f'style="background: rgba({red},{green},{blue},{alpha:.2f}); border-radius: 3px; '
            f'padding: 0 2px">{escaped}</span>'
        )
    return "".join(spans)


def misclassified(
    texts: Sequence[str],
    truth: Sequence[Any],
    explanations: Sequence[Mapping[str, Any]],
    top_tokens: int = 5,
) -> pd.DataFrame:
    """Texts whose label differs from the truth, most confident mistakes first.

    Columns: text, true, predicted, confidence, why (the tokens that pushed it there)."""
    rows = []
    for text, true, item in zip(texts, truth, explanations, strict=True):
        if str(item.get("label")) == str(true):
            continue
        tokens = item.get("tokens") or []
        rows.append(
            {
                "text": text,
                "true": str(true),
                "predicted": str(item.get("label")),
                "confidence": float(item.get("score", 0.0)),
                "why": ", ".join(
                    f"{t['token']} ({float(t['weight']):+.3f})" for t in tokens[:top_tokens]
                ),
            }
        )
    frame = pd.DataFrame(rows, columns=["text", "true", "predicted", "confidence", "why"])
    return frame.sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)


def filter_errors(
    frame: pd.DataFrame, true: Sequence[str] | None = None, predicted: Sequence[str] | None = None
) -> pd.DataFrame:
    """Rows whose true and predicted labels are among the chosen ones (all when empty)."""
    keep = pd.Series(True, index=frame.index)
    if true:
        keep &= frame["true"].isin(list(true))
    if predicted:
        keep &= frame["predicted"].isin(list(predicted))
    return frame[keep]
