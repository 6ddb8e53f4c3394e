"""How much text one predict, predict_scores, explain or invocations request may carry.

One check for every route that runs a model on caller texts (the fast path and the routes call
it through `Predictions.serve` and `Explanations.explain`), made before the model is looked
up. A pipeline's time grows with the characters it reads: 60 MB of text in one predict kept
its model's batcher busy for 68 s, so besides `MAX_PREDICT_BATCH` texts a request may hold at
most `MAX_PREDICT_CHARS` characters in all. An explanation costs several times a prediction
per character (1,000,000 characters of comments: 24 s and +171 MB, against 3 s to predict),
so explain has its own, smaller `MAX_EXPLAIN_CHARS`.
"""

from __future__ import annotations

from itertools import accumulate

from backend.errors import PayloadTooLarge
from backend.settings import Settings


def check_texts(settings: Settings, texts: list[str], *, explain: bool = False) -> None:
    """413 naming the limit and what fits when `texts` is over MAX_PREDICT_BATCH or
    MAX_PREDICT_CHARS (`explain`: MAX_EXPLAIN_CHARS)."""
    if len(texts) > settings.max_predict_batch:
        raise PayloadTooLarge(
            f"{len(texts)} texts is over MAX_PREDICT_BATCH={settings.max_predict_batch}; "
            "split the request"
        )
    limit, name = (
        (settings.max_explain_chars, "MAX_EXPLAIN_CHARS")
        if explain
        else (settings.max_predict_chars, "MAX_PREDICT_CHARS")
    )
    total = sum(map(len, texts))
    if total <= limit:
        return
    fitting = sum(1 for used in accumulate(map(len, texts)) if used <= limit)
    advice = (
        f"the first {fitting:,} texts fit; split the request"
        if fitting
        else f"the first text alone has {len(texts[0]):,}; shorten it"
    )
    raise PayloadTooLarge(
        f"{len(texts):,} texts of {total:,} characters in all are over "
        f"{name}={limit:,} characters per request; {advice}"
    )
