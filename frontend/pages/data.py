"""Data: upload a CSV, preview it, pick columns, see class balance, make it a backend dataset."""

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from frontend import auth, charts
from frontend.client import BackendClient
from frontend.tables import (
    UnreadableCsv,
    guess_label_column,
    guess_text_column,
    labelled_texts,
    read_csv_bytes,
)
from frontend.ui import (
    CURRENT_DATASET,
    UPLOADED_FRAME,
    call,
    dataset_label,
    get_client,
    reported_errors,
    synced_selectbox,
)

DEFAULT_POSITIVE = "(backend default: last class)"


@st.cache_data(show_spinner="Reading the CSV…", max_entries=8)
def parse_csv(content: bytes) -> pd.DataFrame:
    """Cached: the same upload is parsed once, not on every rerun."""
    return read_csv_bytes(content)


def upload_section(client: BackendClient) -> None:
    """File → preview → columns → balance → POST /api/v1/datasets."""
    st.subheader("Upload a CSV")
    uploaded = st.file_uploader(
        "CSV with a text column and a label column (delimiter , ; tab or |; UTF-8 or cp1251)",
        type=["csv", "tsv", "txt"],
        key="data_upload",
    )
    if uploaded is None:
        return
    content = uploaded.getvalue()
    try:
        frame = parse_csv(content)
    except UnreadableCsv as exc:
        st.error(f"Cannot read {uploaded.name}: {exc}")
        return
    st.caption(f"{uploaded.name}: {len(frame):,} rows × {frame.shape[1]} columns")
    st.dataframe(frame.head(50), hide_index=True, height=240)

    columns = [str(column) for column in frame.columns]
    frame.columns = columns
    text_guess = guess_text_column(frame)
    left, right = st.columns(2)
    text_column = left.selectbox(
        "Text column", columns, index=columns.index(text_guess), key="data_text_column"
    )
    label_choices = [column for column in columns if column != text_column]
    label_guess = guess_label_column(frame, text_column)
    label_column = right.selectbox(
        "Label column",
        label_choices,
        index=label_choices.index(label_guess) if label_guess in label_choices else 0,
        key="data_label_column",
    )
    pairs = labelled_texts(frame, text_column, label_column)
    # The EDA page explores exactly this selection, even before it becomes a backend dataset.
    st.session_state[UPLOADED_FRAME] = {
        "name": uploaded.name,
        "fingerprint": hashlib.sha256(
            content + f"|{text_column}|{label_column}".encode()
        ).hexdigest(),
        "frame": pairs,
    }
    counts = pairs["label"].value_counts().sort_index()
    dropped = len(frame) - len(pairs)
    st.plotly_chart(charts.class_balance(counts.to_dict()), key="data_balance")
    if dropped:
        st.caption(f"{dropped:,} rows with an empty text or label will be dropped.")
    if len(counts) < 2:
        st.warning(f"Column {label_column!r} has fewer than 2 classes: pick another label column.")
        return

    with st.form("data_create"):
        name = st.text_input("Dataset name", value=Path(uploaded.name).stem, key="data_name")
        positive = st.selectbox(
            "Positive class for binary metrics",
            [DEFAULT_POSITIVE, *[str(label) for label in counts.index]],
            key="data_positive",
        )
        submitted = auth.action_submit("Create dataset on the server", auth.EDITOR, type="primary")
    if submitted:
        with reported_errors(), st.spinner("Uploading…"):
            dataset = client.upload_dataset(
                content,
                uploaded.name,
                name=name,
                text_column=text_column,
                label_column=label_column,
                positive_label=None if positive == DEFAULT_POSITIVE else positive,
            )
            st.session_state[CURRENT_DATASET] = dataset["id"]
            st.success(
                f"Dataset **{dataset.get('name')}** created (id `{dataset['id']}`): "
                f"{dataset.get('rows', '?')} rows kept, {dataset.get('dropped_rows', 0)} dropped, "
                f"classes {dataset.get('classes')}."
            )
            st.page_link(
                "pages/eda.py", label="Explore it on the EDA page", icon=":material/query_stats:"
            )


def server_section(client: BackendClient) -> None:
    """Datasets already on the server: list, choose the current one, delete."""
    st.subheader("Datasets on the server")
    datasets = call(client.list_datasets)
    if datasets is None:
        return
    if not datasets:
        st.info("No datasets yet.")
        return
    table = pd.DataFrame(datasets)
    shown = [
        c
        for c in (
            "name",
            "rows",
            "dropped_rows",
            "classes",
            "text_column",
            "label_column",
            "created_at",
            "id",
        )
        if c in table.columns
    ]
    table["classes"] = table.get("classes", pd.Series(dtype=object)).astype(str)
    st.dataframe(table[shown], hide_index=True)

    by_id = {dataset["id"]: dataset for dataset in datasets}
    chosen = synced_selectbox(
        "Current dataset (used by Train and Compare)",
        list(by_id),
        "data_current",
        CURRENT_DATASET,
        lambda dataset_id: dataset_label(by_id[dataset_id]),
    )
    if auth.action_button("Delete this dataset", auth.EDITOR, key="data_delete"):
        with reported_errors():
            client.delete_dataset(chosen)
            st.session_state.pop(CURRENT_DATASET, None)
            st.success(f"Deleted dataset {chosen}.")
            st.rerun()


st.title("Data")
backend = get_client()
upload_section(backend)
st.divider()
server_section(backend)
