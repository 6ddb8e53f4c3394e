"""Serve a fitted text pipeline with plain numpy/scipy arithmetic instead of its sklearn calls.

Every pipeline this service trains is a bag-of-words vectorizer (or a union of two) followed
by a model that is linear in those features. Through scikit-learn, one prediction spends
about 0.7 ms on input validation, metadata routing and dataframe detection around 0.1 ms of
work (bench: 781 µs for one text through `predict_and_score`). `LinearScorer` keeps the
exact tokenization — it calls each vectorizer's own counting — and does the rest (TF-IDF
weighting, one sparse × dense product, the model's link function) directly.

It is an optimisation that must never change an answer: `linear_scorer` builds one only for
the shapes it knows, then checks it against the pipeline on probe documents made from the
model's own vocabulary and returns None (serve through sklearn) on any difference.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logsumexp, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.sparsefuncs_fast import (
    inplace_csr_row_normalize_l1,
    inplace_csr_row_normalize_l2,
)

from backend.ml.nbsvm import NBSVMClassifier
from backend.ml.pipeline import predict_and_score, score_matrix

log = logging.getLogger(__name__)

ROW_NORMALIZERS = {"l1": inplace_csr_row_normalize_l1, "l2": inplace_csr_row_normalize_l2}
PROBE_DOCUMENTS = 48
DEFAULT_TOKEN_PATTERN = CountVectorizer().token_pattern
# From this many texts on, `_TokenGrams` counts faster than a Counter per text (bench: 0.93×
# the time at 8 texts, 0.54× at 100; twice the time for 1 text, its numpy calls' fixed cost).
GRAMS_MIN_TEXTS = 8
# The arithmetic is the same as sklearn's; only the order of a few float additions may differ.
RTOL, ATOL = 1e-9, 1e-12


class _Vectorizer:
    """One CountVectorizer/TfidfVectorizer: its own analysis and vocabulary, then counting
    and TF-IDF weighting."""

    def __init__(self, counter: CountVectorizer, sublinear_tf: bool, idf: Any, norm: Any) -> None:
        self.counter = counter
        self.sublinear_tf = sublinear_tf
        self.idf: np.ndarray | None = idf
        self.norm: str | None = norm
        self.lookup = counter.vocabulary_.get
        self.width = len(counter.vocabulary_)
        # Word n-grams: the vectorizer's own preprocessing, tokenizer and stop words, joined
        # into n-grams and counted at C speed (sklearn loops over them in Python: a third of
        # a 100-text call). Any other analyzer is the vectorizer's own.
        self.analyze: Callable[[str], list[str]] = (
            self._word_features
            if counter.analyzer == "word" and counter.input == "content"
            else counter.build_analyzer()
        )
        self.preprocess = counter.build_preprocessor()
        self.tokenize = counter.build_tokenizer()
        self.stop_words = counter.get_stop_words()
        self.ngram_range: tuple[int, int] = tuple(counter.ngram_range)
        self.grams = _TokenGrams.of(counter) if self.analyze == self._word_features else None

    def _tokens(self, text: str) -> list[str]:
        tokens: list[str] = self.tokenize(self.preprocess(text))
        if self.stop_words is not None:
            tokens = [t for t in tokens if t not in self.stop_words]
        return tokens

    def _word_features(self, text: str) -> list[str]:
        tokens = self._tokens(text)
        low, high = self.ngram_range
        features = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            features.extend(map(" ".join, zip(*[tokens[k:] for k in range(n)], strict=False)))
        return features

    def counts(self, texts: list[str]) -> sp.csr_matrix:
        """The document-term matrix `counter.transform` gives (float64, sorted indices)."""
        if self.grams is not None and len(texts) >= GRAMS_MIN_TEXTS:
            return self.grams.counts([self._tokens(text) for text in texts])
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        lookup = self.lookup
        for text in texts:
            found = Counter(map(lookup, self.analyze(text)))  # all at C speed
            found.pop(None, None)  # out-of-vocabulary features
            indices.extend(found.keys())
            values.extend(found.values())
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (
                np.asarray(values, dtype=np.float64),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(texts), self.width),
        )
        matrix.sort_indices()
        return matrix

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        counts = self.counts(texts)
        if self.counter.binary:
            counts.data.fill(1)
        if self.sublinear_tf:
            np.log(counts.data, counts.data)
            counts.data += 1.0
        if self.idf is not None:
            counts.data *= self.idf[counts.indices]
        if self.norm is not None:
            ROW_NORMALIZERS[self.norm](counts)
        return counts


class _TokenGrams:
    """Word n-gram counting on token ids, for the default tokenizer (no token holds a space).

    Each vocabulary term is split into its tokens and stored as one integer key (token ids in
    base T); a batch's n-grams are then looked up with numpy (`searchsorted`), one dict lookup
    per token instead of joining and looking up every n-gram string.
    """

    def __init__(self, vocabulary: dict[str, int], ngram_range: tuple[int, int]) -> None:
        self.low, self.high = ngram_range
        self.width = len(vocabulary)
        split = [(term.split(" "), column) for term, column in vocabulary.items()]
        self.token_ids: dict[str, int] = {}
        for parts, _ in split:
            for part in parts:
                self.token_ids.setdefault(part, len(self.token_ids))
        self.base = max(1, len(self.token_ids))
        if self.base**self.high >= 2**62:
            raise ValueError("n-gram keys would not fit in 64 bits")
        self.unigrams = np.full(self.base, -1, dtype=np.int64)
        keys: dict[int, list[int]] = {n: [] for n in range(2, self.high + 1)}
        columns: dict[int, list[int]] = {n: [] for n in range(2, self.high + 1)}
        for parts, column in split:
            if not self.low <= len(parts) <= self.high:
                raise ValueError(f"a vocabulary term of {len(parts)} tokens")
            if len(parts) == 1:
                self.unigrams[self.token_ids[parts[0]]] = column
                continue
            key = 0
            for part in parts:
                key = key * self.base + self.token_ids[part]
            keys[len(parts)].append(key)
            columns[len(parts)].append(column)
        self.ngrams: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for n, found in keys.items():
            order = np.argsort(np.asarray(found, dtype=np.int64))
            self.ngrams[n] = (
                np.asarray(found, dtype=np.int64)[order],
                np.asarray(columns[n], dtype=np.int64)[order],
            )

    @classmethod
    def of(cls, counter: CountVectorizer) -> _TokenGrams | None:
        if counter.tokenizer is not None or counter.token_pattern != DEFAULT_TOKEN_PATTERN:
            return None
        try:
            return cls(counter.vocabulary_, tuple(counter.ngram_range))
        except ValueError:
            return None

    def counts(self, documents: list[list[str]]) -> sp.csr_matrix:
        lookup = self.token_ids.get
        lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
        total = int(lengths.sum())
        ids = np.fromiter(
            (lookup(token, -1) for tokens in documents for token in tokens),
            dtype=np.int64,
            count=total,
        )
        document = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
        found_documents, found_columns = [], []
        if self.low == 1:
            known = ids >= 0
            columns = self.unigrams[ids[known]]
            hit = columns >= 0
            found_documents.append(document[known][hit])
            found_columns.append(columns[hit])
        for n, (keys, columns) in self.ngrams.items():
            windows = total - n + 1
            if n < self.low or windows <= 0 or not len(keys):
                continue
            valid = document[:windows] == document[n - 1 :]
            key = np.zeros(windows, dtype=np.int64)
            for k in range(n):
                part = ids[k : k + windows]
                valid &= part >= 0
                key = key * self.base + part
            key, start = key[valid], document[:windows][valid]
            position = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
            hit = keys[position] == key
            found_documents.append(start[hit])
            found_columns.append(columns[position[hit]])
        cells = np.concatenate(found_documents) * self.width + np.concatenate(found_columns)
        cells, counts = np.unique(cells, return_counts=True)
        rows = cells // self.width
        indptr = np.zeros(len(documents) + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=len(documents)), out=indptr[1:])
        return sp.csr_matrix(
            (counts.astype(np.float64), (cells % self.width).astype(np.int32), indptr),
            shape=(len(documents), self.width),
        )


@dataclass(frozen=True)
class _Head:
    """decision = X @ weights + bias, then the model's link to labels and scores."""

    weights: np.ndarray  # (n_features, k), a view of the model's own coefficients
    bias: np.ndarray | float
    link: str  # "logistic" | "softmax" | "ovr_logistic" | "naive_bayes" | "decision"
    classes: np.ndarray

    def decision(self, features: sp.csr_matrix) -> np.ndarray:
        decision = np.asarray(features @ self.weights) + self.bias
        return decision.reshape(-1) if decision.shape[1] == 1 else decision

    def labels_and_scores(self, decision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if decision.ndim == 1:
            labels = self.classes[(decision > 0).astype(np.intp)]
        else:
            labels = self.classes[np.argmax(decision, axis=1)]
        return labels, self.scores(decision)

    def scores(self, decision: np.ndarray) -> np.ndarray:
        if self.link == "decision":
            return np.column_stack([-decision, decision]) if decision.ndim == 1 else decision
        if self.link == "naive_bayes":
            return np.exp(decision - logsumexp(decision, axis=1)[:, np.newaxis])
        if self.link == "softmax":
            return np.asarray(softmax(decision, axis=1))
        probability = expit(decision)
        if decision.ndim == 1:
            return np.column_stack([1 - probability, probability])
        totals = probability.sum(axis=1, keepdims=True)
        return np.asarray(probability / np.where(totals == 0, 1, totals))


@dataclass(frozen=True)
class _CalibratedHead:
    """A binary LinearSVC under CalibratedClassifierCV(method="sigmoid"): the mean of each
    fold's sigmoid of its own decision function."""

    weights: np.ndarray  # (n_features, folds)
    bias: np.ndarray  # (folds,)
    slopes: np.ndarray  # (folds,)
    offsets: np.ndarray  # (folds,)
    classes: np.ndarray

    def decision(self, features: sp.csr_matrix) -> np.ndarray:
        return np.asarray(features @ self.weights) + self.bias

    def labels_and_scores(self, decision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = self.scores(decision)
        return self.classes[np.argmax(scores, axis=1)], scores

    def scores(self, decision: np.ndarray) -> np.ndarray:
        positive = expit(-(self.slopes * decision + self.offsets))
        fold_scores = np.stack([1.0 - positive, positive], axis=2)  # (n, folds, 2)
        return np.asarray(fold_scores.mean(axis=1))


class LinearScorer:
    """`predict_and_score` and `score_matrix` (backend/ml/pipeline.py) for one pipeline."""

    def __init__(self, vectorizers: list[_Vectorizer], head: _Head | _CalibratedHead) -> None:
        self.vectorizers = vectorizers
        self.head = head
        # Measured on the probe documents when the scorer is checked (character n-grams cost
        # ten times what words do): how a caller judges how long a call will take.
        self.seconds_per_char = 0.0

    def features(self, texts: list[str]) -> sp.csr_matrix:
        if len(self.vectorizers) == 1:
            return self.vectorizers[0].transform(texts)
        return sp.hstack([v.transform(texts) for v in self.vectorizers]).tocsr()

    def predict_and_score(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.head.labels_and_scores(self.head.decision(self.features(texts)))

    def scores(self, texts: list[str]) -> np.ndarray:
        return self.head.scores(self.head.decision(self.features(texts)))


def linear_scorer(pipeline: Any) -> LinearScorer | None:
    """A checked `LinearScorer` for `pipeline`, or None when it is not one of the known shapes
    or gives any answer that differs from the pipeline's own."""
    try:
        scorer = _build(pipeline)
    except (AttributeError, TypeError, ValueError, KeyError):
        return None
    if scorer is None:
        return None
    try:
        documents = probe_documents(pipeline)
        if _agrees(scorer, pipeline, documents):
            scorer.seconds_per_char = _seconds_per_char(scorer, documents)
            return scorer
    except Exception:  # a private sklearn call that changed: serve through sklearn instead
        log.warning("direct scoring unavailable for this pipeline", exc_info=True)
        return None
    log.warning("direct scoring disagreed with the pipeline; serving through scikit-learn")
    return None


def _build(pipeline: Any) -> LinearScorer | None:
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        return None
    vectorizer, classifier = pipeline.steps[0][1], pipeline.steps[1][1]
    parts = _vectorizers(vectorizer)
    head = _head(classifier)
    if parts is None or head is None:
        return None
    return LinearScorer(parts, head)


def _vectorizers(step: Any) -> list[_Vectorizer] | None:
    if isinstance(step, FeatureUnion):
        if step.transformer_weights or not step.transformer_list:
            return None
        parts = [_vectorizer(transformer) for _, transformer in step.transformer_list]
        return None if any(p is None for p in parts) else [p for p in parts if p is not None]
    part = _vectorizer(step)
    return None if part is None else [part]


def _vectorizer(step: Any) -> _Vectorizer | None:
    if type(step) is TfidfVectorizer:
        tfidf = step._tfidf
        idf = tfidf.idf_ if hasattr(tfidf, "idf_") else None
        return _Vectorizer(step, bool(tfidf.sublinear_tf), idf, tfidf.norm)
    if type(step) is CountVectorizer:
        return _Vectorizer(step, False, None, None)
    return None


def _head(classifier: Any) -> _Head | _CalibratedHead | None:
    classes = np.asarray(classifier.classes_)
    if type(classifier) in (MultinomialNB, ComplementNB):
        bias = classifier.class_log_prior_
        if type(classifier) is ComplementNB and len(classes) > 1:
            bias = 0.0  # ComplementNB adds its prior only for a single class
        return _Head(classifier.feature_log_prob_.T, bias, "naive_bayes", classes)
    if isinstance(classifier, CalibratedClassifierCV):
        return _calibrated_head(classifier, classes)
    if not isinstance(classifier, LinearClassifierMixin) or not hasattr(classifier, "coef_"):
        return None
    if isinstance(classifier, LogisticRegression):
        link = "logistic" if len(classes) <= 2 else "softmax"
    elif isinstance(classifier, NBSVMClassifier) or (
        isinstance(classifier, SGDClassifier) and classifier.loss == "log_loss"
    ):
        link = "logistic" if len(classes) <= 2 else "ovr_logistic"
    elif not hasattr(classifier, "predict_proba"):
        link = "decision"  # LinearSVC, SGD with a loss that has no probabilities
    else:
        return None
    return _Head(classifier.coef_.T, classifier.intercept_, link, classes)


def _calibrated_head(model: CalibratedClassifierCV, classes: np.ndarray) -> _CalibratedHead | None:
    if len(classes) != 2 or model.method != "sigmoid":
        return None
    folds = model.calibrated_classifiers_
    estimators = [fold.estimator for fold in folds]
    if not all(isinstance(e, LinearClassifierMixin) and e.coef_.shape[0] == 1 for e in estimators):
        return None
    calibrators = [fold.calibrators[0] for fold in folds]
    if not all(hasattr(c, "a_") and hasattr(c, "b_") for c in calibrators):
        return None
    return _CalibratedHead(
        weights=np.column_stack([e.coef_[0] for e in estimators]),
        bias=np.asarray([e.intercept_[0] for e in estimators]),
        slopes=np.asarray([c.a_ for c in calibrators]),
        offsets=np.asarray([c.b_ for c in calibrators]),
        classes=classes,
    )


def probe_documents(pipeline: Pipeline, count: int = PROBE_DOCUMENTS) -> list[str]:
    """Texts made of the model's own vocabulary (so that features fire), plus edge cases."""
    vocabulary: list[str] = []
    first = pipeline.steps[0][1]
    steps = [t for _, t in first.transformer_list] if isinstance(first, FeatureUnion) else [first]
    for step in steps:
        vocabulary.extend(list(getattr(step, "vocabulary_", {}))[:2000])
    picker = random.Random(0)
    documents = ["", "!!!", "Ünïcödé — ñ 你好", "a " * 50]
    while vocabulary and len(documents) < count:
        documents.append(
            " ".join(picker.sample(vocabulary, min(len(vocabulary), 1 + len(documents) % 12)))
        )
    return documents


def _seconds_per_char(scorer: LinearScorer, documents: list[str]) -> float:
    """The best of three timed calls on `documents`, per character."""
    chars = max(1, sum(map(len, documents)))
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        scorer.predict_and_score(documents)
        best = min(best, time.perf_counter() - started)
    return best / chars


def _agrees(scorer: LinearScorer, pipeline: Pipeline, documents: list[str]) -> bool:
    labels, scores = predict_and_score(pipeline, documents)
    fast_labels, fast_scores = scorer.predict_and_score(documents)
    return bool(
        np.array_equal(labels, fast_labels)
        and scores.shape == fast_scores.shape
        and np.allclose(scores, fast_scores, rtol=RTOL, atol=ATOL)
        and np.allclose(
            score_matrix(pipeline, documents)[1], scorer.scores(documents), rtol=RTOL, atol=ATOL
        )
    )
