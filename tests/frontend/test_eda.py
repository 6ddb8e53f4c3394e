"""Pure EDA functions on small frames and on the real datasets."""

from __future__ import annotations

import pandas as pd
import pytest

from frontend import eda
from tests.conftest import TOXIC_EN, TOXIC_RU

TEXTS = pd.Series(
    [
        "Hello world. How are you?",
        "Hello world. How are you?",
        "@someone you are a stupid idiot!!! http://x.co",
        "nice work",
        "",
    ]
)
LABELS = pd.Series(["0", "0", "1", "0", "1"])


def test_class_overview_counts_rows_and_duplicates() -> None:
    overview = eda.class_overview(TEXTS, LABELS).set_index("class")
    assert overview.loc["0", "rows"] == 3
    assert overview.loc["0", "duplicates"] == 1
    assert overview.loc["1", "duplicates"] == 0
    assert overview["share"].sum() == pytest.approx(1.0)


def test_conflicting_duplicates() -> None:
    assert eda.conflicting_duplicates(pd.Series(["a", "a", "b"]), pd.Series([0, 1, 1])) == 1


def test_text_stats() -> None:
    stats = eda.text_stats(TEXTS)
    assert stats.loc[0].to_dict() == {
        "characters": 25,
        "words": 5,
        "sentences": 2,
        "punctuation": 2,
    }
    assert stats.loc[3, "sentences"] == 1  # no terminator: still one sentence
    assert stats.loc[4].tolist() == [0, 0, 0, 0]


def test_histograms_share_sums_to_one_per_class_and_metric() -> None:
    stats = eda.text_stats(TEXTS)
    binned = eda.histograms(stats, LABELS, bins=5)
    totals = binned.groupby(["metric", "class"])["share"].sum()
    assert set(binned["metric"]) == set(eda.LENGTH_METRICS)
    assert totals.round(6).isin([0.0, 1.0]).all()


def test_tokenize_drops_urls_handles_and_digits() -> None:
    tokens = eda.tokenize(pd.Series(["@bob Check http://a.b/c 42 times, don't!"]))
    assert tokens[0] == ["check", "times", "don't"]


def test_top_ngrams_removes_stopwords() -> None:
    tokens = eda.tokenize(TEXTS)
    stopwords = eda.stopword_set("en")
    assert stopwords is not None and "are" in stopwords
    unigrams = eda.top_ngrams(tokens, LABELS, 1, top=5, stopwords=stopwords)
    assert "are" not in set(unigrams["ngram"])
    bigrams = eda.top_ngrams(tokens, LABELS, 2, top=5, stopwords=stopwords)
    first = bigrams[bigrams["class"] == "0"].iloc[0]
    assert (first["ngram"], first["count"]) == ("hello world", 2)


def test_word_frequencies_by_class() -> None:
    table = eda.top_ngrams(eda.tokenize(TEXTS), LABELS, 1, top=3)
    frequencies = eda.word_frequencies(table)
    assert set(frequencies) == {"0", "1"}
    assert frequencies["0"]["hello"] == 2


def test_sample_per_class_is_bounded() -> None:
    texts = pd.Series([f"t{i}" for i in range(30)])
    labels = pd.Series([0] * 25 + [1] * 5)
    sampled_texts, sampled_labels = eda.sample_per_class(texts, labels, 10)
    assert sampled_labels.value_counts().to_dict() == {0: 10, 1: 5}
    assert len(set(sampled_texts)) == 15


def test_nltk_status_found_with_shared_data_and_missing_elsewhere(tmp_path) -> None:
    assert eda.check_nltk().missing == []
    missing = eda.check_nltk(paths=[str(tmp_path)])
    assert set(missing.missing) == set(eda.NLTK_RESOURCES)
    assert not missing.has_tagger and not missing.has_stopwords


def test_pos_english_universal_and_fallback_mapping() -> None:
    texts = pd.Series(["The quick brown fox jumps over the lazy dog.", "You are very bad"])
    labels = pd.Series(["0", "1"])
    with_mapping = eda.pos_distribution(texts, labels, "en")
    assert {"NOUN", "VERB", "ADJ", "DET"} <= set(with_mapping["pos"])
    assert with_mapping.groupby("class")["share"].sum().round(6).eq(1.0).all()
    without = eda.NltkStatus({**eda.check_nltk().found, "universal_tagset": False})
    fallback = eda.pos_distribution(texts, labels, "en", without)
    assert {"NOUN", "VERB", "ADJ", "DET"} <= set(fallback["pos"])


def test_pos_english_without_tagger_raises_lookup_error() -> None:
    status = eda.NltkStatus({"stopwords": True, "averaged_perceptron_tagger_eng": False})
    with pytest.raises(LookupError):
        eda.pos_distribution(pd.Series(["a text"]), pd.Series([0]), "en", status)


def test_russian_dataset_language_and_pymorphy_pos() -> None:
    frame = pd.read_csv(TOXIC_RU).head(300)
    assert eda.detect_language(frame["text"]) == "ru"
    pos = eda.pos_distribution(frame["text"], frame["label"], "ru")
    assert pos[pos["class"] == 1].iloc[0]["pos"] in {"NOUN", "VERB"}
    assert "ADJ" in set(pos["pos"])


def test_full_english_dataset_pipeline_shapes() -> None:
    frame = pd.read_csv(TOXIC_EN)
    labels = frame["label"].astype(str)
    assert eda.detect_language(frame["text"]) == "en"
    overview = eda.class_overview(frame["text"], labels)
    assert overview["rows"].sum() == 24_783
    ngrams = eda.top_ngrams(eda.tokenize(frame["text"]), labels, 3, 10, eda.stopword_set("en"))
    assert ngrams.groupby("class").size().to_dict() == {"0": 10, "1": 10}
