"""How big a model file will be, known before the fit and checked before it is written.

A linear model keeps a dense row of weights per class over every feature, so a small CSV can
make a huge model: 385 KB of text with thousands of labels and character n-grams made a
620 MB file that every later load paid for. `MAX_MODEL_MB` bounds it twice: an estimate
right after vectorizing (before the fit spends time and memory) and the serialized size
before anything is written.
"""

from __future__ import annotations

from typing import Any

FLOAT_BYTES = 8
# Weight matrices of shape (rows, n_features) each kind keeps, and whether a binary
# problem needs one row (linear models) or one per class (naive Bayes).
_MATRICES = {"logreg": 1, "svc": 1, "sgd": 1, "mnb": 2, "complement_nb": 3}
_ONE_ROW_WHEN_BINARY = {"logreg", "svc", "sgd"}


class ModelTooLarge(Exception):
    """A model whose file would pass MAX_MODEL_MB."""


def _vocabulary_bytes(vectorizer: Any) -> int:
    """Bytes of the vocabulary as stored: an array of fixed-width (UCS-4) strings."""
    vocabulary = getattr(vectorizer, "vocabulary_", None) or {}
    if not vocabulary:
        return 0
    longest = max(len(term) for term in vocabulary)
    return len(vocabulary) * longest * 4


def estimate_model_bytes(vectorizer: Any, n_classes: int, model_type: str) -> int | None:
    """A lower bound of the model file's size for a fitted vectorizer; None if unknown."""
    matrices = _MATRICES.get(model_type)
    if matrices is None:
        return None
    n_features = len(getattr(vectorizer, "vocabulary_", None) or ())
    rows = 1 if n_classes == 2 and model_type in _ONE_ROW_WHEN_BINARY else n_classes
    weights = matrices * rows * n_features * FLOAT_BYTES
    idf = n_features * FLOAT_BYTES if hasattr(vectorizer, "idf_") else 0
    return weights + idf + _vocabulary_bytes(vectorizer)


def refuse_if_too_large(size: int | None, limit: int, *, estimated: bool) -> None:
    """Raise ModelTooLarge when `size` bytes pass `limit` (0 = no limit)."""
    if not limit or size is None or size <= limit:
        return
    how = "would take about" if estimated else "takes"
    raise ModelTooLarge(
        f"the model {how} {size / 2**20:,.0f} MB, over MAX_MODEL_MB={limit / 2**20:g}; use "
        "fewer features (min_df, max_features, a smaller ngram_range) or fewer classes"
    )


def refuse_if_inflates_too_far(size: int, limit: int) -> None:
    """Raise ModelTooLarge when a model file's members inflate past `limit` (0 = no limit)."""
    if limit and size > limit:
        raise ModelTooLarge(
            f"the model file's members inflate to {size / 2**20:,.0f} MB, over "
            f"MAX_MODEL_MB={limit / 2**20:g}; nothing was inflated"
        )
