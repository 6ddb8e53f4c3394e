"""Explanations of every model kind and feature set the service builds, in process."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from backend.ml.explain import explain
from backend.ml.params import validate_params, validate_vectorizer
from backend.ml.pipeline import build_pipeline
from tests.conftest import TOXIC_EN

TEXTS = ["you are a stupid idiot", "have a wonderful day, friends", "", "idiots!!"]
KINDS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("logreg", {}, {"ngram_range": [1, 2]}),
    ("mnb", {}, {"type": "count"}),
    ("complement_nb", {}, {}),
    ("svc", {}, {"analyzer": "char_wb", "ngram_range": [2, 4]}),
    ("svc", {"calibrate": True}, {}),
    ("sgd", {}, {}),
    ("nbsvm", {}, {"ngram_range": [1, 2]}),
    ("logreg", {}, {"type": "union"}),
    ("nbsvm", {}, {"type": "union", "lemmatize": True}),
]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = pd.read_csv(TOXIC_EN, keep_default_na=False)
    return pd.concat([data[data.label == 0].head(600), data[data.label == 1].head(600)])


@pytest.mark.parametrize(("kind", "params", "vectorizer"), KINDS)
def test_every_kind_explains_with_words_of_the_text(
    kind: str, params: dict[str, Any], vectorizer: dict[str, Any], frame: pd.DataFrame
) -> None:
    pipeline = build_pipeline(
        kind, validate_params(kind, params), validate_vectorizer(vectorizer), random_state=0
    )
    pipeline.fit(frame["text"].tolist(), frame["label"].to_numpy())
    answers = explain(pipeline, TEXTS, 8)
    assert [a["label"] for a in answers] == pipeline.predict(TEXTS).tolist()
    assert answers == explain(pipeline, TEXTS, 8)  # the same every time
    for text, answer in zip(TEXTS, answers, strict=True):
        weights = [t["weight"] for t in answer["tokens"]]
        assert weights == sorted(weights, reverse=True) and len(weights) <= 8
        for token in answer["tokens"]:
            if not vectorizer.get("lemmatize"):  # lemmas may differ from the surface words
                assert all(part in text.lower() for part in token["token"].split()), token
    assert answers[2]["tokens"] == []
    insult = answers[0]
    toward_toxic = {
        t["token"]: t["weight"] * (1 if insult["label"] == 1 else -1)
        for t in explain(pipeline, TEXTS[:1], 200)[0]["tokens"]
    }
    assert max(toward_toxic.get("stupid", 0), toward_toxic.get("idiot", 0)) > 0, toward_toxic
