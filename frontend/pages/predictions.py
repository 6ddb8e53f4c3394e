"""Prediction log: every predict / predict_scores call the backend recorded, newest first."""

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from frontend.labels import label_names, label_text
from frontend.ui import call, get_client, reported_errors

ALL_MODELS = "(all models)"


def mark_wrong(records: list[dict[str, Any]], models: list[dict[str, Any]]) -> None:
    """Pick a logged prediction and send its right label as feedback."""
    logged = [
        (record, index)
        for record in records
        for index in range(len(record.get("prediction_ids") or []))
    ]
    if not logged:
        return
    classes = {model["id"]: model.get("classes") or [] for model in models}
    names = {model["id"]: label_names(model) for model in models}
    st.subheader("Mark a prediction wrong")
    options: list[int] = list(range(len(logged)))

    def shown(i: int) -> str:
        record, index = logged[i]
        return describe(record, index, names.get(record["model_id"], {}))

    choice = st.selectbox("Prediction", options, format_func=shown, key="predictions_fix_row")
    if choice is None:
        return
    record, index = logged[choice]
    text = record["items"][index].get("text")
    if text is None:
        text = st.text_input(
            "The predicted text (the log keeps only hashes; it must be the same text)",
            key="predictions_fix_text",
        )
    columns = st.columns([1, 1, 3])
    right = columns[0].selectbox(
        "Right label",
        classes.get(record["model_id"], []),
        format_func=lambda label: label_text(label, names.get(record["model_id"], {})),
        key="predictions_fix_label",
    )
    columns[1].write("")  # aligns the button with the select box
    if columns[1].button("Send correction", key="predictions_fix_send"):
        if not text:
            st.warning("Type the text that was predicted.")
            return
        with reported_errors():
            sent = client.send_feedback(
                {"prediction_id": record["prediction_ids"][index], "text": text, "label": right}
            )
            st.success(f"Correction saved ({sent['id']}): {sent['label']}.")


def describe(record: dict[str, Any], index: int, names: dict[str, str]) -> str:
    item = record["items"][index]
    shown = item.get("text") or f"sha256 {str(item.get('sha256'))[:12]}…"
    answer = label_text(item.get("prediction"), names)
    return f"{record['created_at']} · {record['model_id']} · {shown[:60]} → {answer}"


st.title("Prediction log")
client = get_client()
models = call(client.list_models) or []
labels = {model["id"]: f"{model.get('name')} v{model.get('version')}" for model in models}
columns = st.columns(3)
model_id = columns[0].selectbox(
    "Model",
    [ALL_MODELS, *labels],
    format_func=lambda key: labels.get(key, key),
    key="predictions_model",
)
since_day = columns[1].date_input(
    "Since (UTC day)", value=None, key="predictions_since", help="Empty = from the beginning"
)
limit = columns[2].number_input("Rows", 1, 10_000, 200, step=100, key="predictions_limit")

since = (
    dt.datetime.combine(since_day, dt.time.min).strftime("%Y-%m-%dT%H:%M:%SZ")
    if since_day
    else None
)
records = call(
    client.list_predictions,
    model_id=None if model_id == ALL_MODELS else model_id,
    since=since,
    limit=int(limit),
)
if records is not None:
    if not records:
        st.info("No predictions recorded for this filter.")
    else:
        table = pd.json_normalize(records, max_level=0)
        for column in table.columns:
            # Per-text hashes and predictions are lists; show them as text, not nested cells.
            if table[column].map(lambda value: isinstance(value, list | dict)).any():
                table[column] = table[column].map(str)
        st.caption(f"{len(table):,} calls, newest first.")
        mark_wrong(records, models)
        st.dataframe(table, hide_index=True, key="predictions_table")
        st.download_button(
            "Download CSV",
            table.to_csv(index=False).encode("utf-8"),
            file_name="prediction_log.csv",
            mime="text/csv",
            key="predictions_download",
        )
