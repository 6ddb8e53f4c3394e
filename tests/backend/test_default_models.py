"""The default models on ordinary text (issue 14): trained on the Wikipedia talk-page sample,
they give polite sentences a low toxic score and clear insults a high one.

The shared backend trains them on DEFAULT_MODELS_ROWS=4000 of the sample (tests/servers.py);
every sentence here is one that any sensible model must get right even then. Short
second-person praise ("you are a wonderful person") is deliberately absent: bag-of-words
models on this data score it high (README, "Default models").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.backend.api_steps import DATASETS, DEFAULT_IDS, MODELS

POLITE = [
    "I disagree with your point about taxes",
    "Thanks for fixing the citation, the article reads much better now.",
    "Could you add a source for the population figure?",
]
ABUSIVE = ["you are an idiot", "shut up, you stupid moron", "fuck off"]


@pytest.fixture(scope="module")
def http(backend: Any) -> Any:
    with httpx.Client(base_url=backend.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("model_id", DEFAULT_IDS)
def test_default_models_score_polite_text_low_and_insults_high(
    http: httpx.Client, model_id: str
) -> None:
    response = http.post(
        f"{MODELS}/predict_scores", json={"model_id": model_id, "texts": POLITE + ABUSIVE}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["score_kind"] == "probability"  # a toxic score from 0 to 1 for every default
    toxic = [scores[body["classes"].index(1)] for scores in body["scores"]]
    for text, score in zip(POLITE + ABUSIVE, toxic, strict=True):
        if text in POLITE:
            assert score < 0.5, (text, score)
        else:
            assert score > 0.5, (text, score)
    labels = http.post(
        f"{MODELS}/predict", json={"model_id": model_id, "texts": POLITE + ABUSIVE}
    ).json()
    assert labels["predictions"] == [0] * len(POLITE) + [1] * len(ABUSIVE)


def test_defaults_learn_from_the_wikipedia_sample_and_both_samples_are_bundled(
    http: httpx.Client,
) -> None:
    datasets = {d["id"]: d for d in http.get(DATASETS).json()}
    assert {"sample-toxic-en-wiki", "sample-toxic-en"} <= set(datasets)
    for model_id in DEFAULT_IDS:
        model = http.get(f"{MODELS}/{model_id}").json()
        assert model["dataset_id"] == "sample-toxic-en-wiki"
        assert model["vectorizer"]["type"] == "union"
        assert model["metrics"]["macro_f1"] > 0.6
