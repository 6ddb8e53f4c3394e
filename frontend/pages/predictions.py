"""Prediction log: every predict / predict_scores call the backend recorded, newest first."""

import datetime as dt

import pandas as pd
import streamlit as st

from frontend.ui import call, get_client

ALL_MODELS = "(all models)"

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
        st.dataframe(table, hide_index=True, key="predictions_table")
        st.download_button(
            "Download CSV",
            table.to_csv(index=False).encode("utf-8"),
            file_name="prediction_log.csv",
            mime="text/csv",
            key="predictions_download",
        )
