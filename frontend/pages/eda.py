"""EDA: per-class statistics of the CSV uploaded on the Data page, as interactive charts."""

import hashlib
import logging
import time

import numpy as np
import pandas as pd
import streamlit as st

from frontend import charts, eda
from frontend.tables import (
    UnreadableCsv,
    guess_label_column,
    guess_text_column,
    labelled_texts,
    read_csv_bytes,
)
from frontend.ui import UPLOADED_FRAME, call, dataset_picker, get_client

logger = logging.getLogger("frontend.pages.eda")

# Cached functions take a fingerprint of the data plus the data itself as `_`-prefixed arguments,
# which st.cache_data does not hash: hashing 25k texts on every rerun would cost more than the
# lookups save.


@st.cache_data(show_spinner=False, max_entries=8)
def overview_tables(fingerprint: str, _texts: pd.Series, _labels: pd.Series) -> tuple:
    """Rows, duplicates per class and the count of texts labelled both ways."""
    return eda.class_overview(_texts, _labels), eda.conflicting_duplicates(_texts, _labels)


@st.cache_data(show_spinner=False, max_entries=8)
def length_tables(fingerprint: str, _texts: pd.Series, _labels: pd.Series) -> tuple:
    """Summary statistics and pre-binned histograms of the four length metrics."""
    stats = eda.text_stats(_texts)
    return eda.stats_summary(stats, _labels), eda.histograms(stats, _labels)


@st.cache_data(show_spinner=False, max_entries=8)
def ngram_tables(
    fingerprint: str,
    _texts: pd.Series,
    _labels: pd.Series,
    language: str,
    top: int,
    drop_stopwords: bool,
) -> dict[int, pd.DataFrame]:
    """Top uni/bi/trigrams per class, plus 100 unigrams (key 0) for the word clouds."""
    stopwords = eda.stopword_set(language) if drop_stopwords else None
    tokens = eda.tokenize(_texts)
    tables = {n: eda.top_ngrams(tokens, _labels, n, top, stopwords) for n in (1, 2, 3)}
    tables[0] = eda.top_ngrams(tokens, _labels, 1, 100, stopwords)
    return tables


@st.cache_data(show_spinner=False, max_entries=8)
def cloud_images(
    fingerprint: str, language: str, drop_stopwords: bool, _unigrams: pd.DataFrame
) -> dict[str, np.ndarray]:
    """One word-cloud image per class."""
    return {
        str(label): charts.word_cloud_image(frequencies)
        for label, frequencies in eda.word_frequencies(_unigrams).items()
    }


@st.cache_data(show_spinner=False, max_entries=8)
def pos_table(
    fingerprint: str,
    _texts: pd.Series,
    _labels: pd.Series,
    language: str,
    sample_size: int,
    nltk_found: tuple,
) -> pd.DataFrame:
    """Part-of-speech shares per class on a random sample of `sample_size` texts per class."""
    texts, labels = eda.sample_per_class(_texts, _labels, sample_size)
    return eda.pos_distribution(texts, labels, language, eda.NltkStatus(dict(nltk_found)))


@st.cache_data(show_spinner="Fetching the dataset…", max_entries=4)
def server_dataset_bytes(dataset_id: str, sha256: str) -> bytes | None:
    """A server dataset's stored rows (cached per dataset and content)."""
    return call(get_client().download_dataset, dataset_id)


def server_source() -> tuple[str, str, pd.DataFrame] | None:
    """A dataset already on the server, chosen in a selectbox."""
    datasets = call(get_client().list_datasets) or []
    chosen = dataset_picker(datasets, key="eda_dataset")
    if chosen is None:
        return None
    content = server_dataset_bytes(chosen["id"], chosen["sha256"])
    if content is None:
        return None
    frame = read_csv_bytes(content)
    return (
        chosen["name"],
        f"server:{chosen['id']}:{chosen['sha256']}",
        labelled_texts(frame, "text", "label"),
    )


@st.cache_data(show_spinner="Reading the CSV…", max_entries=4)
def uploaded_pairs(fingerprint: str, _content: bytes, text: str, label: str) -> pd.DataFrame:
    """The Data page's file as `text`/`label` rows to explore (the server's preview chose the
    columns; exploring reads the whole file here, as for a CSV dropped on this page)."""
    frame = read_csv_bytes(_content)
    frame.columns = [str(column) for column in frame.columns]
    return labelled_texts(frame, text, label)


def source_frame() -> tuple[str, str, pd.DataFrame] | None:
    """(name, fingerprint, frame with text/label) from the Data page, the server or a CSV."""
    stored = st.session_state.get(UPLOADED_FRAME)
    options = (["CSV from the Data page"] if stored is not None else []) + [
        "Dataset on the server",
        "Drop a CSV here",
    ]
    origin = st.radio("Explore", options, horizontal=True, key="eda_origin")
    if origin == "CSV from the Data page" and stored is not None:
        try:
            pairs = uploaded_pairs(
                stored["fingerprint"], stored["content"], stored["text"], stored["label"]
            )
        except (UnreadableCsv, KeyError) as exc:
            # Same reading rules as the server (toxiclf_csv), but the server's import also
            # reads in chunks what would be too big for this session.
            st.error(
                f"This page cannot read {stored['name']} itself ({exc}): create the dataset on "
                "the Data page and explore it as a dataset on the server."
            )
            return None
        return stored["name"], stored["fingerprint"], pairs
    if origin == "Dataset on the server":
        return server_source()
    st.info("Upload a CSV on the **Data** page (to choose its columns), or drop one here.")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/description:")
    uploaded = st.file_uploader("CSV to explore", type=["csv", "tsv", "txt"], key="eda_upload")
    if uploaded is None:
        return None
    content = uploaded.getvalue()
    try:
        frame = read_csv_bytes(content)
    except UnreadableCsv as exc:
        st.error(f"Cannot read {uploaded.name}: {exc}")
        return None
    frame.columns = [str(column) for column in frame.columns]
    text_column = guess_text_column(frame)
    label_column = guess_label_column(frame, text_column)
    st.caption(f"Columns guessed: text = {text_column!r}, label = {label_column!r}.")
    fingerprint = hashlib.sha256(content + f"{text_column}|{label_column}".encode()).hexdigest()
    return uploaded.name, fingerprint, labelled_texts(frame, text_column, label_column)


def explain_missing_nltk(status: eda.NltkStatus, language: str) -> None:
    """Say what is skipped because NLTK data is missing, and how to install it."""
    skipped = []
    if not status.has_stopwords:
        skipped.append("stopword removal in n-grams and word clouds (stopwords are kept)")
    if language == "en" and not status.has_tagger:
        skipped.append("parts of speech (needs averaged_perceptron_tagger_eng)")
    if language == "en" and status.has_tagger and not status.has_universal_tagset:
        skipped.append("NLTK's universal tag mapping (a built-in Penn→universal table is used)")
    if skipped:
        st.info(
            "NLTK data missing: "
            + ", ".join(status.missing)
            + ". Skipped: "
            + "; ".join(skipped)
            + f". Install with `{eda.NLTK_INSTALL_HINT}`.",
            icon=":material/info:",
        )


st.title("EDA")
source = source_frame()
if source is None:
    st.stop()
name, fingerprint, frame = source
texts, labels = frame["text"].astype(str), frame["label"].astype(str)
detected = eda.detect_language(texts)

controls = st.columns(3)
language = controls[0].selectbox(
    "Language",
    ["en", "ru"],
    index=["en", "ru"].index(detected),
    key="eda_language",
    help=f"Detected: {detected}. Chooses stopwords and the part-of-speech tagger.",
)
top = controls[1].slider("N-grams shown per class", 5, 50, 20, key="eda_top")
pos_sample = controls[2].select_slider(
    "Texts per class tagged for parts of speech",
    [250, 500, 1000, 2000, 5000],
    value=eda.POS_SAMPLE_DEFAULT,
    key="eda_pos_sample",
    help="Tagging is the slow step (~0.7 ms per text), so it runs on a random sample.",
)

status = eda.check_nltk()
explain_missing_nltk(status, language)
started = time.perf_counter()

st.subheader(f"{name}: {len(frame):,} texts")
overview, conflicts = overview_tables(fingerprint, texts, labels)
left, right = st.columns([2, 3])
left.dataframe(overview.style.format({"share": "{:.1%}"}), hide_index=True)
if conflicts:
    left.warning(f"{conflicts:,} distinct texts appear under more than one label.")
right.plotly_chart(charts.overview_bars(overview), key="eda_overview")

st.subheader("Length of texts")
summary, binned = length_tables(fingerprint, texts, labels)
st.plotly_chart(charts.length_histograms(binned), key="eda_lengths")
with st.expander("Mean, median and 95th percentile per class"):
    st.dataframe(summary)
st.caption(
    "Words are runs of letters/digits; sentences end at . ! ? or …; punctuation counts "
    "characters that are neither letters, digits nor spaces."
)

st.subheader("Frequent words and phrases")
drop_stopwords = status.has_stopwords
ngrams = ngram_tables(fingerprint, texts, labels, language, top, drop_stopwords)
st.caption(
    ("Stopwords removed (NLTK, " + language + "). " if drop_stopwords else "Stopwords kept. ")
    + "URLs, @handles and HTML entities are dropped; counted over every text."
)
for n in (1, 2, 3):
    st.plotly_chart(charts.top_ngrams(ngrams[n], n), key=f"eda_ngrams_{n}")

st.subheader("Word clouds")
images = cloud_images(fingerprint, language, drop_stopwords, ngrams[0])
cloud_columns = st.columns(min(len(images), 3) or 1)
for index, (label, image) in enumerate(images.items()):
    cloud_columns[index % len(cloud_columns)].image(image, caption=f"class {label}")

st.subheader("Parts of speech")
if language == "en" and not status.has_tagger:
    st.info("Skipped: NLTK's averaged_perceptron_tagger_eng is not installed.")
else:
    tagger = "pymorphy3" if language == "ru" else "NLTK pos_tag, universal tagset"
    with st.spinner("Tagging parts of speech…"):
        pos = pos_table(
            fingerprint, texts, labels, language, pos_sample, tuple(sorted(status.found.items()))
        )
    st.plotly_chart(charts.pos_shares(pos), key="eda_pos")
    st.caption(f"{tagger}, on a random sample of up to {pos_sample:,} texts per class.")

elapsed = time.perf_counter() - started
logger.info("EDA of %s (%d texts) computed in %.2f s", name, len(frame), elapsed)
st.caption(f"Page computed in {elapsed:.2f} s (results are cached).")
