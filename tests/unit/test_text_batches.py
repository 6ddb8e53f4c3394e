"""The web UI cuts many texts into requests within MAX_PREDICT_BATCH and MAX_PREDICT_CHARS."""

from __future__ import annotations

from backend.settings import Settings
from frontend.batches import MAX_CHARS, MAX_TEXTS, text_batches


def test_batches_keep_order_and_both_limits() -> None:
    texts = [f"{i:03d}" + "x" * (i % 7) for i in range(200)]
    batches = list(text_batches(texts, max_texts=9, max_chars=40))
    assert [t for batch in batches for t in batch] == texts
    assert all(0 < len(batch) <= 9 and sum(map(len, batch)) <= 40 for batch in batches)
    assert list(text_batches([], 3, 3)) == []
    # A text over the character limit alone is sent alone (the backend names the limit).
    assert list(text_batches(["a" * 50, "b", "c"], 10, 20)) == [["a" * 50], ["b", "c"]]


def test_the_ui_limits_are_the_backend_defaults() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (defaults.max_predict_batch, defaults.max_predict_chars) == (MAX_TEXTS, MAX_CHARS)
