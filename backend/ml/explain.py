"""Why a text got its label: per text, the features it contains that pushed it toward the label.

A fitted pipeline is `vectorizer → classifier`. The push of feature j toward class c is the
text's feature value x_j times a per-class weight W[c, j]:
- linear models (logistic regression, linear SVM, SGD, and a calibrated linear SVM through the
  mean of its folds' linear models): W = coef_ (a binary coef_ pushes toward the second class,
  so the first class gets its negation);
- naive Bayes (multinomial, complement): the log-probability ratio of the class against the
  others (against the mean of the others when there are more than two);
- classifiers that scale features before a linear model (NB-SVM) say so by a
  `feature_weights()` method returning W.
Word and word n-gram features keep their own names as tokens; character n-grams are summed
into the words of the text that contain them, so every token is readable. Nothing here is
random and ties sort by token, so the same model and text give the same answer in every process.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.pipeline import FeatureUnion

from backend.ml.pipeline import score_matrix

WEIGHT_DIGITS = 6  # rounding keeps answers short; the order is taken before rounding
_WHITE_SPACES = re.compile(r"\s\s+")  # what scikit-learn's char analyzer collapses


class CannotExplain(ValueError):
    """The model's kind has no per-feature weights to explain with; the message says why."""


@dataclass(frozen=True)
class _Block:
    """One vectorizer's share of the feature columns (a FeatureUnion has several)."""

    vectorizer: Any
    offset: int
    names: np.ndarray


def _blocks(vectorizer: Any) -> list[_Block]:
    if isinstance(vectorizer, FeatureUnion):
        blocks: list[_Block] = []
        offset = 0
        for _name, part in vectorizer.transformer_list:
            if part is None or isinstance(part, str):  # "drop" / "passthrough"
                continue
            inner = _blocks(part)
            blocks += [_Block(b.vectorizer, offset + b.offset, b.names) for b in inner]
            offset += sum(len(b.names) for b in inner)
        return blocks
    if not hasattr(vectorizer, "get_feature_names_out") or not hasattr(vectorizer, "analyzer"):
        raise CannotExplain(
            f"its features come from a {type(vectorizer).__name__}, whose columns do not "
            "name words or n-grams"
        )
    return [_Block(vectorizer, 0, np.asarray(vectorizer.get_feature_names_out(), dtype=str))]


def class_weights(classifier: Any) -> np.ndarray:
    """W with one row per class of `classifier.classes_`: the push of each feature toward it."""
    n_classes = len(classifier.classes_)
    if hasattr(classifier, "feature_weights"):
        return np.asarray(classifier.feature_weights(), dtype=float)
    if hasattr(classifier, "calibrated_classifiers_"):
        inner = [c.estimator for c in classifier.calibrated_classifiers_]
        return np.mean([class_weights(estimator) for estimator in inner], axis=0)
    if hasattr(classifier, "feature_log_prob_"):
        log_prob = np.asarray(classifier.feature_log_prob_, dtype=float)
        if n_classes == 2:
            return np.vstack([log_prob[0] - log_prob[1], log_prob[1] - log_prob[0]])
        others = (log_prob.sum(axis=0) - log_prob) / (n_classes - 1)
        return log_prob - others
    coef = getattr(classifier, "coef_", None)
    if coef is None:
        raise CannotExplain(
            f"a {type(classifier).__name__} has no per-feature weights; explanations need a "
            "linear model or naive Bayes"
        )
    coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=float)
    if coef.shape[0] == 1 and n_classes == 2:
        return np.vstack([-coef[0], coef[0]])
    return coef


def _pipeline_parts(pipeline: Any) -> tuple[Any, Any]:
    steps = dict(getattr(pipeline, "steps", []))
    if "vectorizer" not in steps or "classifier" not in steps:
        raise CannotExplain("it is not a vectorizer → classifier pipeline")
    return steps["vectorizer"], steps["classifier"]


def _char_occurrences(vectorizer: Any, text: str) -> tuple[list[str], dict[str, list[int]]]:
    """The words of `text` and, per character n-gram, the word index of each occurrence."""
    preprocess = vectorizer.build_preprocessor()
    low, high = vectorizer.ngram_range
    document = _WHITE_SPACES.sub(" ", preprocess(vectorizer.decode(text)))
    words = document.split()
    where: dict[str, list[int]] = defaultdict(list)
    if vectorizer.analyzer == "char_wb":
        for index, word in enumerate(words):
            padded = f" {word} "
            for n in range(low, high + 1):
                for start in range(max(1, len(padded) - n + 1)):
                    where[padded[start : start + n]].append(index)
        return words, where
    # Plain "char": n-grams run across spaces; each counts for every word it overlaps.
    spans = [match.span() for match in re.finditer(r"\S+", document)]
    for n in range(low, high + 1):
        for start in range(max(1, len(document) - n + 1)):
            end = start + n
            hit = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
            for index in hit:
                where[document[start:end]].append(index)
    return words, where


def _row_tokens(
    blocks: list[_Block], columns: np.ndarray, pushes: np.ndarray, text: str
) -> dict[str, float]:
    """Readable token → summed push, for one text's non-zero features."""
    tokens: dict[str, float] = defaultdict(float)
    char_cache: dict[int, tuple[list[str], dict[str, list[int]]]] = {}
    for column, push in zip(columns.tolist(), pushes.tolist(), strict=True):
        block_index = _block_of(blocks, column)
        block = blocks[block_index]
        name = str(block.names[column - block.offset])
        analyzer = getattr(block.vectorizer, "analyzer", "word")
        if analyzer not in ("char", "char_wb"):
            tokens[name] += push
            continue
        if block_index not in char_cache:
            char_cache[block_index] = _char_occurrences(block.vectorizer, text)
        words, where = char_cache[block_index]
        hits = where.get(name)
        if not hits:
            tokens[name.strip() or name] += push
            continue
        share = push / len(hits)
        for index in hits:
            tokens[words[index]] += share
    return tokens


def _block_of(blocks: list[_Block], column: int) -> int:
    for index in range(len(blocks) - 1, -1, -1):
        if column >= blocks[index].offset:
            return index
    return 0


@dataclass(frozen=True)
class _Prepared:
    vectorizer: Any
    blocks: list[_Block]
    weights: np.ndarray
    classes: list[Any]


# Feature names and weights per pipeline object: building them sorts the whole vocabulary,
# which took most of a small call. Keyed weakly, so an unloaded model takes its entry along.
_prepared: weakref.WeakKeyDictionary[Any, _Prepared] = weakref.WeakKeyDictionary()
_prepared_lock = threading.Lock()


def _prepare(pipeline: Any) -> _Prepared:
    with _prepared_lock:
        cached = _prepared.get(pipeline)
    if cached is not None:
        return cached
    vectorizer, classifier = _pipeline_parts(pipeline)
    blocks = _blocks(vectorizer)
    weights = class_weights(classifier)
    classes = np.asarray(classifier.classes_).tolist()
    n_features = sum(len(block.names) for block in blocks)
    if weights.shape != (len(classes), n_features):
        raise CannotExplain(f"its weights have shape {weights.shape} for {n_features} features")
    prepared = _Prepared(vectorizer, blocks, weights, classes)
    with _prepared_lock:
        _prepared[pipeline] = prepared
    return prepared


def explain(
    pipeline: Any,
    texts: list[str],
    top_k: int,
    *,
    threshold: float | None = None,
    positive: Any = None,
) -> list[dict[str, Any]]:
    """Per text: the label (cut at `threshold` on `positive`'s score for a binary model when
    given), that label's score, and the `top_k` tokens sorted by their push toward the label."""
    prepared = _prepare(pipeline)
    blocks, weights, classes = prepared.blocks, prepared.weights, prepared.classes
    features = prepared.vectorizer.transform(texts).tocsr()
    _kind, scores = score_matrix(pipeline, texts)
    if threshold is not None and len(classes) == 2 and positive in classes:
        column = classes.index(positive)
        chosen = np.where(scores[:, column] >= threshold, column, 1 - column)
    else:
        predicted = np.asarray(pipeline.predict(texts)).tolist()
        chosen = np.asarray([classes.index(label) for label in predicted])
    answers = []
    for row, class_index in enumerate(chosen.tolist()):
        start, end = features.indptr[row], features.indptr[row + 1]
        columns = features.indices[start:end]
        pushes = features.data[start:end] * weights[class_index, columns]
        tokens = _row_tokens(blocks, columns, pushes, texts[row])
        ranked = sorted(
            ((token, push) for token, push in tokens.items() if push != 0),
            key=lambda item: (-item[1], item[0]),
        )[:top_k]
        answers.append(
            {
                "label": classes[class_index],
                "score": float(scores[row, class_index]),
                "tokens": [
                    {"token": token, "weight": round(push, WEIGHT_DIGITS)} for token, push in ranked
                ],
            }
        )
    return answers
