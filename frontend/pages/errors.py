"""Errors: a model's misclassified texts on a labelled dataset, most confident first, each
with the words that pushed it there; filter by true and predicted label, download as CSV."""

import streamlit as st

from frontend import quality, quality_views
from frontend.ui import (
    call,
    dataset_picker,
    get_client,
    model_label,
    reported_errors,
    trained_models,
)

RESULT = "errors_result"

st.title("Errors")
client = get_client()
trained = trained_models(client)
datasets = call(client.list_datasets, stop=True) or []
by_id = {model["id"]: model for model in trained}
model_id = st.selectbox(
    "Model", list(by_id), format_func=lambda key: model_label(by_id[key]), key="errors_model"
)
dataset = dataset_picker(datasets, key="errors_dataset", label="Labelled dataset")
limit = st.number_input(
    "Rows to check (from the top of the dataset)",
    min_value=10,
    max_value=20_000,
    value=2_000,
    step=500,
    key="errors_limit",
)
if dataset is not None and dataset.get("id") == by_id[model_id].get("dataset_id"):
    st.warning(
        "The model was trained on this dataset: most of its rows are training rows, on which "
        "it makes fewer mistakes than on new texts."
    )
if (
    st.button("Find errors", type="primary", disabled=dataset is None, key="errors_run")
    and dataset is not None
):
    with reported_errors(), st.spinner("Explaining the model's labels…"):
        st.session_state[RESULT] = {
            "model": model_label(by_id[model_id]),
            "table": quality_views.find_errors(client, by_id[model_id], dataset["id"], int(limit)),
        }

result = st.session_state.get(RESULT)
if result:
    table = result["table"]
    st.subheader(f"{len(table):,} misclassified texts · {result['model']}")
    columns = st.columns(2)
    true = columns[0].multiselect("True label", sorted(table["true"].unique()), key="errors_true")
    predicted = columns[1].multiselect(
        "Predicted label", sorted(table["predicted"].unique()), key="errors_predicted"
    )
    shown = quality.filter_errors(table, true, predicted)
    st.caption(f"{len(shown):,} shown, most confident mistakes first.")
    st.dataframe(
        shown,
        hide_index=True,
        column_config={"confidence": st.column_config.NumberColumn(format="%.3f")},
        key="errors_table",
    )
    st.download_button(
        "Download errors CSV",
        shown.to_csv(index=False).encode("utf-8"),
        file_name="errors.csv",
        mime="text/csv",
        key="errors_download",
    )
