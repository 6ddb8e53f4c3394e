"""Data: upload a CSV, preview it as the server reads it, pick columns, make it a dataset."""

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from frontend import auth, charts
from frontend.client import BackendClient
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
SHOWN_ROWS = 50
PREVIEWS = "data_previews"  # {(file sha256, text column, label column): the server's preview}
TEXT_KEY, LABEL_KEY = "data_text_column", "data_label_column"


def server_preview(
    client: BackendClient,
    content: bytes,
    filename: str,
    text_column: str | None = None,
    label_column: str | None = None,
) -> dict[str, Any] | None:
    """POST /api/v1/datasets/preview, once per file and column choice in this session."""
    fingerprint = hashlib.sha256(content).hexdigest()
    previews: dict[tuple[str, str | None, str | None], dict[str, Any]]
    previews = st.session_state.setdefault(PREVIEWS, {})
    key = (fingerprint, text_column, label_column)
    if key not in previews:
        with st.spinner("The server reads the CSV…"):
            answer = call(
                client.preview_dataset,
                content,
                filename,
                text_column=text_column,
                label_column=label_column,
                head=SHOWN_ROWS,
            )
        if answer is None:
            return None
        # Only this file's previews are kept: a new file starts afresh.
        for old in [k for k in previews if k[0] != fingerprint]:
            del previews[old]
        previews[key] = answer
    return previews[key]


def upload_section(client: BackendClient) -> None:
    """File → the server's preview → columns → balance → POST /api/v1/datasets."""
    st.subheader("Upload a CSV")
    uploaded = st.file_uploader(
        "CSV with a text column and a label column (delimiter , ; tab or |; UTF-8, UTF-16 "
        "with BOM or cp1251)",
        type=["csv", "tsv", "txt"],
        key="data_upload",
    )
    if uploaded is None:
        return
    if not auth.can(auth.EDITOR):
        st.info(
            "The server reads the file for the preview, as upload does: "
            f"{auth.reason(auth.EDITOR)} The **EDA** page explores a CSV for any role."
        )
        return
    content = uploaded.getvalue()
    fingerprint = hashlib.sha256(content).hexdigest()
    if st.session_state.get("data_file") != fingerprint:
        # Another file: the column choices of the last one mean nothing here.
        st.session_state["data_file"] = fingerprint
        for key in (TEXT_KEY, LABEL_KEY):
            st.session_state.pop(key, None)
    detected = server_preview(client, content, uploaded.name)
    if detected is None:
        return
    columns = detected["columns"]
    st.caption(
        f"{uploaded.name}: {detected['rows']:,} rows × {len(columns)} columns, read by the "
        f"server as {detected['encoding']} with delimiter {detected['delimiter']!r}"
    )
    st.dataframe(pd.DataFrame(detected["head"], columns=columns), hide_index=True, height=240)
    if len(columns) < 2:
        st.error(f"Cannot make a dataset of {uploaded.name}: {detected['error']}")
        return

    text_guess = detected["text_column"] or columns[0]
    left, right = st.columns(2)
    text_column = left.selectbox(
        "Text column", columns, index=columns.index(text_guess), key=TEXT_KEY
    )
    label_choices = [column for column in columns if column != text_column]
    label_guess = detected["label_column"]
    label_column = right.selectbox(
        "Label column",
        label_choices,
        index=label_choices.index(label_guess) if label_guess in label_choices else 0,
        key=LABEL_KEY,
    )
    chosen = (
        detected
        if (text_column, label_column) == (detected["text_column"], detected["label_column"])
        else server_preview(client, content, uploaded.name, text_column, label_column)
    )
    if chosen is None:
        return
    if chosen["error"]:
        st.warning(f"The server would refuse these columns: {chosen['error']}")
        return

    # The EDA page explores this file and these columns, even before it becomes a dataset.
    st.session_state[UPLOADED_FRAME] = {
        "name": uploaded.name,
        "fingerprint": hashlib.sha256(
            content + f"|{text_column}|{label_column}".encode()
        ).hexdigest(),
        "content": content,
        "text": text_column,
        "label": label_column,
    }
    classes: dict[str, int] = chosen["classes"]
    st.plotly_chart(charts.class_balance(classes), key="data_balance")
    dropped = chosen["dropped"]
    if chosen["dropped_rows"]:
        st.caption(
            f"{chosen['dropped_rows']:,} rows will be dropped: {dropped['empty_text']:,} with an "
            f"empty text, {dropped['missing_label']:,} without a label. "
            f"{chosen['rows_kept']:,} rows are kept."
        )

    with st.form("data_create"):
        name = st.text_input("Dataset name", value=Path(uploaded.name).stem, key="data_name")
        positive = st.selectbox(
            "Positive class for binary metrics",
            [DEFAULT_POSITIVE, *classes],
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
