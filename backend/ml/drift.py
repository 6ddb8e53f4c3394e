"""Drift features and the population stability index (PSI), pure numpy and scikit-learn.

Every prediction is described by a small row of numbers, the same for the validation split at
fit time (the reference profile) and for live traffic (the prediction log):

    [text length, out-of-vocabulary share, score of class 0, ..., score of class k-1]

The reference profile keeps, per feature, the bin edges (deciles of the validation split) and
the share of validation texts in each bin; live traffic is binned with the same edges and the
two histograms are compared with PSI = sum((live - ref) * ln(live / ref)).
Nothing here touches the database or the web app: it runs in fit workers and in the server.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

PROFILE_VERSION = 1
LENGTH, OOV = 0, 1  # columns of a feature row; the class scores follow
FIRST_SCORE = 2
QUANTILES = np.linspace(0.1, 0.9, 9)  # ten bins of about equal reference mass
SHARE_FLOOR = 1e-4  # an empty bin counts as this share, so PSI stays finite
FEATURE_DTYPE = np.float32


class OovMeter:
    """The share of a text's tokens that the pipeline's vectorizer does not know.

    Word vectorizers whose n-grams start at 1 are measured on unigrams only (tokenize and look
    up, about a tenth of a prediction's time); other analyzers (char n-grams, bigrams only) on
    every term their analyzer makes. Without a vocabulary (hashing, foreign pipelines) there is
    no OOV share.
    """

    def __init__(self, pipeline: Any) -> None:
        steps = getattr(pipeline, "steps", None) or []
        vectorizer = _word_vectorizer(steps[0][1]) if len(steps) > 1 else None
        self.vocabulary: dict[str, int] | None = getattr(vectorizer, "vocabulary_", None)
        self._terms: Callable[[str], list[str]] | None = None
        if self.vocabulary is None or vectorizer is None:
            return
        analyzer = getattr(vectorizer, "analyzer", "word")
        ngram_range = tuple(getattr(vectorizer, "ngram_range", (1, 1)))
        if analyzer == "word" and ngram_range[0] == 1:
            preprocess = vectorizer.build_preprocessor()
            tokenize = vectorizer.build_tokenizer()
            stop_words = vectorizer.get_stop_words() or frozenset()
            plain = (
                vectorizer.preprocessor is None
                and vectorizer.tokenizer is None
                and vectorizer.strip_accents is None
                and vectorizer.lowercase
            )
            if stop_words:
                self._terms = lambda text: [
                    t for t in tokenize(preprocess(text)) if t not in stop_words
                ]
            elif plain:  # the default: the same terms without two layers of calls (-30%)
                findall = re.compile(vectorizer.token_pattern).findall
                self._terms = lambda text: findall(text.lower())
            else:
                self._terms = lambda text: tokenize(preprocess(text))
        else:
            self._terms = vectorizer.build_analyzer()

    @property
    def available(self) -> bool:
        return self._terms is not None

    def shares(self, texts: list[str]) -> np.ndarray:
        """Per text: unknown terms / terms (1.0 for a text with no terms: nothing is known)."""
        if self._terms is None or self.vocabulary is None:
            return np.full(len(texts), np.nan, dtype=FEATURE_DTYPE)
        vocabulary, terms_of = self.vocabulary, self._terms
        out = np.empty(len(texts), dtype=FEATURE_DTYPE)
        known_term = vocabulary.__contains__
        for i, text in enumerate(texts):
            terms = terms_of(text)
            if terms:
                out[i] = 1.0 - sum(map(known_term, terms)) / len(terms)
            else:
                out[i] = 1.0
        return out


# Live calls measure the OOV share on at most this many texts each (evenly spread, the rest
# NaN): tokenizing every text of a 100-text call cost 18 % of the prediction's CPU, and PSI
# needs a sample, not every text. Texts of the reference profile are all measured.
LIVE_OOV_SAMPLE = 8


def _word_vectorizer(step: Any) -> Any:
    """The vectorizer whose vocabulary the OOV share is measured against: the step itself, or
    in a union (word + char TF-IDF) its word part, else its first part with a vocabulary."""
    parts = [part for _name, part in getattr(step, "transformer_list", [])]
    if not parts:
        return step
    with_vocabulary = [p for p in parts if getattr(p, "vocabulary_", None) is not None]
    words = [p for p in with_vocabulary if getattr(p, "analyzer", None) == "word"]
    return (words or with_vocabulary or [None])[0]


def feature_rows(
    oov: OovMeter, texts: list[str], scores: Any, oov_sample: int | None = None
) -> np.ndarray:
    """The feature rows of `texts` scored `scores` (n × classes): float32, n × (2 + classes)."""
    return calls_feature_rows(oov, [(texts, scores)], oov_sample)


def calls_feature_rows(
    oov: OovMeter, calls: list[tuple[list[str], Any]], oov_sample: int | None = None
) -> np.ndarray:
    """The feature rows of many calls of one model, stacked in call order. With `oov_sample`,
    each call measures the OOV share on at most that many of its texts (evenly spread, both
    ends; the others NaN).

    The log's writer passes a whole batch of calls: one tokenizing pass and one set of numpy
    operations for the batch cost a fraction of one per call (1-text calls: 21 → 4 µs each).
    """
    texts = [text for call_texts, _ in calls for text in call_texts]
    n = len(texts)
    score_parts = [_score_matrix(call_texts, scores) for call_texts, scores in calls]
    score_matrix = score_parts[0] if len(score_parts) == 1 else np.concatenate(score_parts)
    rows = np.empty((n, FIRST_SCORE + score_matrix.shape[1]), dtype=FEATURE_DTYPE)
    rows[:, LENGTH] = np.fromiter(map(len, texts), dtype=FEATURE_DTYPE, count=n)
    picked = _oov_sample(calls, oov_sample)
    if picked is None:
        rows[:, OOV] = oov.shares(texts)
    else:
        rows[:, OOV] = np.nan
        rows[picked, OOV] = oov.shares([texts[i] for i in picked])
    rows[:, FIRST_SCORE:] = score_matrix
    return rows


def _score_matrix(texts: list[str], scores: Any) -> np.ndarray:
    matrix = np.asarray(scores, dtype=FEATURE_DTYPE)
    return matrix.reshape(len(texts), -1) if matrix.ndim == 1 else matrix


def _oov_sample(calls: list[tuple[list[str], Any]], oov_sample: int | None) -> list[int] | None:
    """Indices (into all texts of `calls`) whose OOV share is measured; None for all."""
    if oov_sample is None or all(len(texts) <= oov_sample for texts, _ in calls):
        return None
    picked: list[int] = []
    start = 0
    for texts, _ in calls:
        n = len(texts)
        if n <= oov_sample:
            picked.extend(range(start, start + n))
        else:
            step = (n - 1) / (oov_sample - 1)
            picked.extend(start + int(i * step) for i in range(oov_sample))
        start += n
    return picked


def pack(rows: np.ndarray) -> bytes:
    return np.ascontiguousarray(rows, dtype=FEATURE_DTYPE).tobytes()


def unpack(blobs: list[bytes], width: int) -> np.ndarray:
    """Many packed blobs of one model (rows of `width` numbers) as one matrix."""
    joined = b"".join(blobs)
    return np.frombuffer(joined, dtype=FEATURE_DTYPE).reshape(-1, width)


# --- named features -------------------------------------------------------------------------


def score_features(classes: list[Any]) -> dict[str, int]:
    """Feature name → score column. Binary: one `score` (of the second class, the other is its
    mirror); more classes: `score:<class>` each."""
    if len(classes) == 2:
        return {"score": FIRST_SCORE + 1}
    return {f"score:{c}": FIRST_SCORE + i for i, c in enumerate(classes)}


def named_columns(rows: np.ndarray, classes: list[Any]) -> dict[str, np.ndarray]:
    """The numeric features of `rows` by name (oov_share left out when it is unknown)."""
    columns: dict[str, np.ndarray] = {"length": rows[:, LENGTH]}
    if len(rows) == 0 or not np.isnan(rows[:, OOV]).all():
        columns["oov_share"] = rows[:, OOV]
    for name, column in score_features(classes).items():
        columns[name] = rows[:, column]
    return columns


def predicted_index(rows: np.ndarray) -> np.ndarray:
    """The predicted class per row: the highest score, as the classifiers decide."""
    if rows.shape[1] <= FIRST_SCORE:
        return np.zeros(len(rows), dtype=np.int64)
    return np.argmax(rows[:, FIRST_SCORE:], axis=1)


# --- histograms and PSI ---------------------------------------------------------------------


def numeric_edges(values: np.ndarray) -> list[float]:
    """Inner bin edges: the reference deciles, duplicates merged (a feature often sits at 0)."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return []
    return np.unique(np.quantile(finite.astype(np.float64), QUANTILES)).tolist()


def numeric_shares(values: np.ndarray, edges: list[float]) -> list[float]:
    """Share of `values` per bin; bin i holds edges[i-1] < v <= edges[i]."""
    finite = values[np.isfinite(values)]
    counts = np.bincount(
        np.searchsorted(np.asarray(edges), finite, side="left"), minlength=len(edges) + 1
    )
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * (len(edges) + 1)


def class_shares(indices: np.ndarray, n_classes: int) -> list[float]:
    counts = np.bincount(indices, minlength=n_classes)[:n_classes]
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * n_classes


def psi(reference: list[float], current: list[float]) -> float:
    """Population stability index of two histograms over the same bins."""
    ref = np.maximum(np.asarray(reference, dtype=np.float64), SHARE_FLOOR)
    cur = np.maximum(np.asarray(current, dtype=np.float64), SHARE_FLOOR)
    value = float(np.sum((cur - ref) * np.log(cur / ref)))
    return value if math.isfinite(value) else 0.0


def reference_profile(
    oov: OovMeter, texts: list[str], scores: Any, classes: list[Any], labels: Any = None
) -> dict[str, Any]:
    """The compact profile of a validation split kept with the model (a few kB as JSON)."""
    rows = feature_rows(oov, texts, scores)
    features: dict[str, dict[str, Any]] = {}
    for name, column in named_columns(rows, classes).items():
        edges = numeric_edges(column)
        features[name] = {
            "edges": edges,
            "shares": numeric_shares(column, edges),
            "mean": float(np.nanmean(column)) if len(column) else 0.0,
        }
    features["predicted_class"] = {
        "categories": [str(c) for c in classes],
        "shares": class_shares(predicted_index(rows), len(classes)),
    }
    profile: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "n": len(texts),
        "classes": list(classes),
        "features": features,
    }
    if labels is not None:  # the score distribution per true class, for people to look at
        truth = np.asarray(labels)
        by_class: dict[str, Any] = {}
        for name, index in score_features(classes).items():
            edges = features[name]["edges"]
            by_class[name] = {
                str(c): numeric_shares(rows[truth == c, index], edges) for c in classes
            }
        profile["score_by_true_class"] = by_class
    return profile


def compare(profile: dict[str, Any], rows: np.ndarray) -> dict[str, dict[str, Any]]:
    """PSI per feature between the live `rows` and the reference `profile`."""
    classes = list(profile["classes"])
    reference = profile["features"]
    report: dict[str, dict[str, Any]] = {}
    for name, column in named_columns(rows, classes).items():
        if name not in reference:
            continue
        ref = reference[name]
        current = numeric_shares(column, ref["edges"])
        finite = column[np.isfinite(column)]
        report[name] = {
            "psi": psi(ref["shares"], current) if len(finite) else 0.0,
            "reference": ref["shares"],
            "current": current,
            "edges": ref["edges"],
            "reference_mean": ref["mean"],
            "current_mean": float(finite.mean()) if len(finite) else None,
        }
    ref = reference["predicted_class"]
    current = class_shares(predicted_index(rows), len(classes))
    report["predicted_class"] = {
        "psi": psi(ref["shares"], current) if len(rows) else 0.0,
        "reference": ref["shares"],
        "current": current,
        "categories": ref["categories"],
    }
    return report
