"""Exploratory statistics of a labelled text dataset: pure functions from texts to tables.

Speed matters (the EDA page must stay usable on 25k rows), hence:
- lengths, words, sentences and punctuation are vectorized pandas string operations;
- n-grams and word clouds use a compiled regex tokenizer over every text (NLTK's TweetTokenizer
  takes ~3.5 s on 25k tweets, the regex ~0.2 s), with NLTK's stopword lists;
- parts of speech, the one costly step, run on a bounded random sample per class, with NLTK's
  TweetTokenizer + perceptron tagger (English) or pymorphy3 (Russian).
"""

from __future__ import annotations

import re
import typing
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice

import numpy as np
import pandas as pd

LENGTH_METRICS: tuple[str, ...] = ("characters", "words", "sentences", "punctuation")
POS_SAMPLE_DEFAULT = 1000

# Tweet artifacts that are neither words of the language nor signal about toxicity.
_NOISE_RE = re.compile(r"https?://\S+|www\.\S+|@\w+|&#?\w+;")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_EXTRA_STOPWORDS = frozenset({"rt", "amp", "http", "https"})
_CYRILLIC_RE = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN_RE = re.compile(r"[a-z]", re.IGNORECASE)

NLTK_RESOURCES: dict[str, str] = {
    "stopwords": "corpora/stopwords",
    "averaged_perceptron_tagger_eng": "taggers/averaged_perceptron_tagger_eng/",
    "universal_tagset": "taggers/universal_tagset",
}
NLTK_INSTALL_HINT = (
    "python -m nltk.downloader stopwords averaged_perceptron_tagger_eng punkt_tab "
    "universal_tagset  (or point NLTK_DATA at a folder that holds them)"
)

# Penn Treebank → universal tags, for when NLTK's universal_tagset mapping data is absent.
PTB_TO_UNIVERSAL: dict[str, str] = {
    **dict.fromkeys(["NN", "NNS", "NNP", "NNPS"], "NOUN"),
    **dict.fromkeys(["VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "MD"], "VERB"),
    **dict.fromkeys(["JJ", "JJR", "JJS"], "ADJ"),
    **dict.fromkeys(["RB", "RBR", "RBS", "WRB"], "ADV"),
    **dict.fromkeys(["PRP", "PRP$", "WP", "WP$"], "PRON"),
    **dict.fromkeys(["DT", "PDT", "WDT", "EX"], "DET"),
    **dict.fromkeys(["IN"], "ADP"),
    **dict.fromkeys(["CC"], "CONJ"),
    **dict.fromkeys(["CD"], "NUM"),
    **dict.fromkeys(["RP", "TO", "POS"], "PRT"),
    **dict.fromkeys([".", ",", ":", "``", "''", "-LRB-", "-RRB-", "(", ")", "#", "$"], "."),
    **dict.fromkeys(["FW", "LS", "SYM", "UH"], "X"),
}

# pymorphy3 (OpenCorpora) → the same universal groups, so both languages chart alike.
OPENCORPORA_TO_UNIVERSAL: dict[str, str] = {
    "NOUN": "NOUN",
    **dict.fromkeys(["ADJF", "ADJS", "COMP"], "ADJ"),
    **dict.fromkeys(["VERB", "INFN", "PRTF", "PRTS", "GRND"], "VERB"),
    "NUMR": "NUM",
    **dict.fromkeys(["ADVB", "PRED"], "ADV"),
    "NPRO": "PRON",
    "PREP": "ADP",
    "CONJ": "CONJ",
    "PRCL": "PRT",
    "INTJ": "X",
}


@dataclass(frozen=True)
class NltkStatus:
    """Which NLTK data packages were found, and what the EDA page must skip without them."""

    found: dict[str, bool] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        """Names of the packages not found."""
        return [name for name, ok in self.found.items() if not ok]

    @property
    def has_stopwords(self) -> bool:
        return self.found.get("stopwords", False)

    @property
    def has_tagger(self) -> bool:
        return self.found.get("averaged_perceptron_tagger_eng", False)

    @property
    def has_universal_tagset(self) -> bool:
        return self.found.get("universal_tagset", False)


def check_nltk(paths: Sequence[str] | None = None) -> NltkStatus:
    """Look up the NLTK data the EDA uses (in `paths`, default nltk.data.path / NLTK_DATA)."""
    import nltk

    found = {}
    for name, resource in NLTK_RESOURCES.items():
        try:
            nltk.data.find(resource, paths=list(paths) if paths is not None else None)
        except LookupError:
            found[name] = False
        else:
            found[name] = True
    return NltkStatus(found)


def detect_language(texts: Iterable[str], sample: int = 500) -> str:
    """'ru' when Cyrillic letters outnumber Latin ones in the first `sample` texts, else 'en'."""
    joined = " ".join(islice((str(text) for text in texts), sample))
    cyrillic = len(_CYRILLIC_RE.findall(joined))
    latin = len(_LATIN_RE.findall(joined))
    return "ru" if cyrillic > latin else "en"


def class_overview(texts: pd.Series, labels: pd.Series) -> pd.DataFrame:
    """Per class: rows, share of all rows, duplicated texts (repeats beyond the first), unique."""
    frame = pd.DataFrame({"text": texts.astype(str).to_numpy(), "label": labels.to_numpy()})
    grouped = frame.groupby("label", sort=True)["text"]
    overview = pd.DataFrame({"rows": grouped.size(), "unique_texts": grouped.nunique()})
    overview["duplicates"] = overview["rows"] - overview["unique_texts"]
    overview["share"] = overview["rows"] / max(len(frame), 1)
    overview.index.name = "class"
    return overview.reset_index()[["class", "rows", "share", "duplicates", "unique_texts"]]


def conflicting_duplicates(texts: pd.Series, labels: pd.Series) -> int:
    """How many distinct texts appear under more than one label (label noise)."""
    frame = pd.DataFrame({"text": texts.astype(str).to_numpy(), "label": labels.to_numpy()})
    label_counts = frame.groupby("text")["label"].nunique()
    return int((label_counts > 1).sum())


def text_stats(texts: pd.Series) -> pd.DataFrame:
    """Per text: characters, words, sentences and punctuation marks (vectorized)."""
    texts = texts.astype(str)
    stripped = texts.str.strip()
    # A sentence ends at a run of terminators followed by space or the end; trailing text
    # without a terminator is one more sentence. Punkt would be more exact but is ~50x slower.
    terminated = stripped.str.count(r"[.!?…]+(?=\s|$)")
    open_tail = (stripped.str.len() > 0) & ~stripped.str.contains(r"[.!?…]$", regex=True)
    return pd.DataFrame(
        {
            "characters": texts.str.len(),
            "words": texts.str.count(r"\w+"),
            "sentences": terminated + open_tail.astype(int),
            "punctuation": texts.str.count(r"[^\w\s]"),
        },
        index=texts.index,
    )


def stats_summary(stats: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Mean, median and 95th percentile of each length metric per class."""
    grouped = stats.groupby(labels.to_numpy(), sort=True)
    summary = grouped.agg(["mean", "median", lambda column: column.quantile(0.95)])
    summary = summary.rename(columns={"<lambda_0>": "p95"}, level=1)
    summary.index.name = "class"
    return summary.round(2)


def histograms(
    stats: pd.DataFrame, labels: pd.Series, bins: int = 30, clip_quantile: float = 0.99
) -> pd.DataFrame:
    """Binned share of texts per class for each metric, on bins shared by the classes.

    Pre-binning keeps the charts light (a few hundred bars instead of 25k points each); the top
    1% is folded into the last bin so one very long text does not squash the chart.
    """
    label_values = labels.to_numpy()
    rows = []
    for metric in stats.columns:
        values = stats[metric].to_numpy(dtype=float)
        upper = float(np.quantile(values, clip_quantile)) if len(values) else 1.0
        edges = np.histogram_bin_edges(np.clip(values, 0, upper), bins=bins, range=(0, upper or 1))
        for label in sorted(pd.unique(label_values), key=str):
            class_values = np.clip(values[label_values == label], 0, upper)
            counts, _ = np.histogram(class_values, bins=edges)
            total = max(counts.sum(), 1)
            rows.append(
                pd.DataFrame(
                    {
                        "metric": metric,
                        "class": label,
                        "left": edges[:-1],
                        "right": edges[1:],
                        "count": counts,
                        "share": counts / total,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


@lru_cache(maxsize=4)
def stopword_set(language: str) -> frozenset[str] | None:
    """NLTK's stopwords for 'en' / 'ru' plus tweet noise; None when the corpus is missing."""
    try:
        from nltk.corpus import stopwords

        words = stopwords.words({"en": "english", "ru": "russian"}.get(language, "english"))
    except LookupError:
        return None
    return frozenset(words) | _EXTRA_STOPWORDS


def tokenize(texts: pd.Series) -> pd.Series:
    """Lower-cased word tokens per text, without URLs, @handles, HTML entities and digits."""
    cleaned = texts.astype(str).str.lower().str.replace(_NOISE_RE, " ", regex=True)
    return cleaned.str.findall(_WORD_RE)


def top_ngrams(
    tokens: pd.Series,
    labels: pd.Series,
    n: int,
    top: int = 20,
    stopwords: frozenset[str] | None = None,
) -> pd.DataFrame:
    """The `top` most frequent n-grams per class (stopwords removed before joining n-grams)."""
    label_values = labels.to_numpy()
    frames = []
    for label in sorted(pd.unique(label_values), key=str):
        counter: Counter[str] = Counter()
        for words in tokens[label_values == label]:
            if stopwords:
                words = [word for word in words if word not in stopwords]
            if n == 1:
                counter.update(words)
            else:
                counter.update(
                    " ".join(gram) for gram in zip(*(words[i:] for i in range(n)), strict=False)
                )
        common = counter.most_common(top)
        frames.append(
            pd.DataFrame(
                {"class": label, "ngram": [g for g, _ in common], "count": [c for _, c in common]}
            )
        )
    return pd.concat(frames, ignore_index=True)


def word_frequencies(ngrams: pd.DataFrame) -> dict[object, dict[str, int]]:
    """{class: {word: count}} from a `top_ngrams(n=1)` table, the input of a word cloud."""
    return {
        label: dict(zip(group["ngram"], group["count"], strict=True))
        for label, group in ngrams.groupby("class", sort=True)
    }


def sample_per_class(
    texts: pd.Series, labels: pd.Series, size: int, seed: int = 0
) -> tuple[pd.Series, pd.Series]:
    """At most `size` texts of each class, drawn at random (reproducibly)."""
    frame = pd.DataFrame({"text": texts.astype(str).to_numpy(), "label": labels.to_numpy()})
    parts = [
        group.sample(n=min(size, len(group)), random_state=seed)
        for _, group in frame.groupby("label", sort=True)
    ]
    sampled = pd.concat(parts) if parts else frame
    return sampled["text"].reset_index(drop=True), sampled["label"].reset_index(drop=True)


def pos_distribution(
    texts: pd.Series,
    labels: pd.Series,
    language: str,
    status: NltkStatus | None = None,
) -> pd.DataFrame:
    """Share of each universal part-of-speech tag per class; call it on a sample.

    English needs NLTK's perceptron tagger (raises LookupError without it); Russian uses
    pymorphy3. Punctuation is reported as PUNCT.
    """
    label_values = labels.to_numpy()
    tags_per_text = (
        _russian_tags(texts) if language == "ru" else _english_tags(texts, status or check_nltk())
    )
    rows = []
    for label in sorted(pd.unique(label_values), key=str):
        counter: Counter[str] = Counter()
        for tags, text_label in zip(tags_per_text, label_values, strict=True):
            if text_label == label:
                counter.update(tags)
        total = max(sum(counter.values()), 1)
        for tag, count in counter.most_common():
            rows.append({"class": label, "pos": tag, "count": count, "share": count / total})
    return pd.DataFrame(rows, columns=["class", "pos", "count", "share"])


def _english_tags(texts: pd.Series, status: NltkStatus) -> list[list[str]]:
    import nltk
    from nltk.tokenize import TweetTokenizer

    if not status.has_tagger:
        raise LookupError("NLTK data 'averaged_perceptron_tagger_eng' is not installed")
    tokenizer = TweetTokenizer(preserve_case=True, reduce_len=True, strip_handles=True)
    sentences = [tokenizer.tokenize(_NOISE_RE.sub(" ", text)) for text in texts]
    if status.has_universal_tagset:
        tagged = nltk.pos_tag_sents(sentences, tagset="universal")
        return [[_punct(tag) for _, tag in sentence] for sentence in tagged]
    tagged = nltk.pos_tag_sents(sentences)
    return [[_punct(PTB_TO_UNIVERSAL.get(tag, "X")) for _, tag in sentence] for sentence in tagged]


def _punct(tag: str) -> str:
    return "PUNCT" if tag == "." else tag


@lru_cache(maxsize=1)
def _morph_analyzer() -> typing.Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def _russian_word_tag(word: str) -> str:
    # Cached per word: words follow Zipf's law, so most parses are repeats.
    pos = _morph_analyzer().parse(word)[0].tag.POS
    return OPENCORPORA_TO_UNIVERSAL.get(str(pos), "X") if pos else "X"


def _russian_tags(texts: pd.Series) -> list[list[str]]:
    return [[_russian_word_tag(word) for word in words] for words in tokenize(texts)]
