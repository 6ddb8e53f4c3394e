"""Cutting many texts into requests the backend accepts (no Streamlit)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from frontend.client import ClientError

# The backend's defaults of MAX_PREDICT_BATCH and MAX_PREDICT_CHARS (texts and characters in
# all per predict or predict_scores request), used when GET /api/v1/limits cannot be read; a
# text longer than the limit alone goes in a request of its own and gets the backend's 413,
# which names the limit.
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


@dataclass(frozen=True)
class Limits:
    max_texts: int = MAX_TEXTS
    max_chars: int = MAX_CHARS
    max_explain_chars: int = MAX_EXPLAIN_CHARS


def backend_limits(client: Any) -> Limits:
    """The limits the backend holds requests to (GET /api/v1/limits), else the defaults."""
    try:
        answer = client.limits()
    except ClientError:
        return Limits()
    defaults = Limits()
    return Limits(
        max_texts=int(answer.get("max_predict_batch") or defaults.max_texts),
        max_chars=int(answer.get("max_predict_chars") or defaults.max_chars),
        max_explain_chars=int(answer.get("max_explain_chars") or defaults.max_explain_chars),
    )
