"""Cutting many texts into requests the backend accepts (pure, no Streamlit)."""

from __future__ import annotations

from collections.abc import Iterator

# The backend's defaults of MAX_PREDICT_BATCH and MAX_PREDICT_CHARS (texts and characters in
# all per predict, predict_scores or explain request); a text longer than MAX_CHARS alone goes
# in a request of its own and gets the backend's 413, which names the limit.
MAX_TEXTS = 10_000
MAX_CHARS = 1_000_000
MAX_EXPLAIN_CHARS = 200_000  # explain's own, smaller character limit


def text_batches(
    texts: list[str], max_texts: int = MAX_TEXTS, max_chars: int = MAX_CHARS
) -> Iterator[list[str]]:
    """Consecutive slices of `texts`, each within both limits, in order."""
    start = 0
    while start < len(texts):
        end, chars = start, 0
        while end < len(texts) and end - start < max_texts:
            chars += len(texts[end])
            if chars > max_chars and end > start:
                break
            end += 1
        yield texts[start:end]
        start = end
