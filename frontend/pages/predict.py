"""Predict: texts typed one per line or a CSV column → predictions with scores, as CSV."""

from typing import Any

import pandas as pd
import streamlit as st

from frontend import auth, quality_views
from frontend.batches import backend_limits, text_batches
from frontend.labels import label_names, label_text, prediction_summary, shown_predictions
from frontend.tables import UnreadableCsv, guess_text_column, read_csv_bytes
from frontend.ui import get_client, model_label, reported_errors, trained_models

RESULT = "predict_result"


def predictions_table(texts: list[str], labels: list[Any], scored: dict[str, Any]) -> pd.DataFrame:
    """text, prediction and one score column per class."""
    table = pd.DataFrame({"text": texts, "prediction": labels})
    classes = scored.get("classes") or []
    scores = pd.DataFrame(scored.get("scores") or [], columns=[f"score_{c}" for c in classes])
    return pd.concat([table, scores], axis=1)


def input_texts() -> list[str]:
    """The texts to classify, from the text area or a CSV column."""
    mode = st.radio("Input", ["Type texts", "CSV column"], horizontal=True, key="predict_mode")
    if mode == "Type texts":
        typed = st.text_area(
            "One text per line",
            height=160,
            key="predict_texts",
            placeholder="you are wonderful\nyou are an idiot",
        )
        return [line.strip() for line in typed.splitlines() if line.strip()]
    uploaded = st.file_uploader("CSV file", type=["csv", "tsv", "txt"], key="predict_csv")
    if uploaded is None:
        return []
    try:
        frame = read_csv_bytes(uploaded.getvalue())
    except UnreadableCsv as exc:
        st.error(f"Cannot read {uploaded.name}: {exc}")
        return []
    columns = [str(column) for column in frame.columns]
    frame.columns = columns
    column = st.selectbox(
        "Text column", columns, index=columns.index(guess_text_column(frame)), key="predict_column"
    )
    texts = frame[column].dropna().astype(str).tolist()
    st.caption(f"{len(texts):,} texts in column {column!r}.")
    return texts


st.title("Predict")
client = get_client()
trained = trained_models(client, loaded_first=True)
by_id = {model["id"]: model for model in trained}
model_id = st.selectbox(
    "Model", list(by_id), format_func=lambda key: model_label(by_id[key]), key="predict_model"
)
model = by_id[model_id]
if not model.get("loaded"):
    st.warning("This model is not loaded; predictions need it in memory.")
    if auth.action_button("Load it", auth.EDITOR, key="predict_load"):
        with reported_errors():
            client.load_model(model_id)
            st.rerun()

texts = input_texts()
# Always enabled: a text area commits on blur, so a disabled state would lag one rerun behind.
clicked = st.button("Predict", type="primary", key="predict_run")
if clicked and not texts:
    st.warning("Type at least one text, or choose a CSV column.")
elif clicked:
    with reported_errors(), st.spinner(f"Classifying {len(texts):,} texts…"):
        labels: list[Any] = []
        prediction_ids: list[str] = []
        scored: dict[str, Any] = {"classes": [], "scores": []}
        # Bigger inputs than one request may carry are sent in several.
        limits = backend_limits(client)
        for chunk in text_batches(texts, limits.max_texts, limits.max_chars):
            answer = client.predict(model_id, chunk)
            labels += answer["predictions"]
            prediction_ids += answer.get("prediction_ids") or []
            part = client.predict_scores(model_id, chunk)
            scored["classes"] = part["classes"]
            scored["score_kind"] = part.get("score_kind")
            scored["scores"] += part["scores"]
        st.session_state[RESULT] = {
            "model": model_label(model),
            "score_kind": scored.get("score_kind"),
            "table": predictions_table(texts, labels, scored),
            "model_id": model_id,
            "model_info": model,
            "scored": scored,
            "classes": scored["classes"],
            "prediction_ids": prediction_ids if len(prediction_ids) == len(texts) else [],
            "highlights": quality_views.explain_texts(client, model, texts),
        }

result = st.session_state.get(RESULT)
if result:
    st.subheader("Predictions")
    st.caption(f"{result['model']} · scores are {result['score_kind']}")
    st.markdown(
        prediction_summary(
            result["table"]["prediction"].tolist(), label_names(result.get("model_info"))
        )
    )
    shown, bar = shown_predictions(
        result["table"], result.get("scored") or {}, result.get("model_info") or {}
    )
    bar_column = (
        {
            bar.column: st.column_config.ProgressColumn(
                bar.column, min_value=bar.low, max_value=bar.high, format="%.3f", help=bar.help
            )
        }
        if bar
        else {}
    )
    st.dataframe(shown, hide_index=True, column_config=bar_column, key="predict_table")
    st.download_button(
        "Download CSV",
        result["table"].to_csv(index=False).encode("utf-8"),
        file_name="predictions.csv",
        mime="text/csv",
        key="predict_download",
    )
    quality_views.show_highlights(result.get("highlights"))

if result and result.get("prediction_ids"):
    names = label_names(result.get("model_info"))
    st.subheader("Mark a prediction wrong")
    table = result["table"]
    columns = st.columns([3, 1, 1])
    options: list[int] = list(range(len(table)))
    row = columns[0].selectbox(
        "Prediction",
        options,
        format_func=lambda i: (
            f"{table['text'][i][:80]} → " + label_text(table["prediction"][i], names)
        ),
        key="predict_fix_row",
    )
    right = columns[1].selectbox(
        "Right label",
        result["classes"],
        format_func=lambda label: label_text(label, names),
        key="predict_fix_label",
    )
    if row is not None and columns[2].button("Send correction", key="predict_fix_send"):
        with reported_errors():
            sent = client.send_feedback(
                {
                    "prediction_id": result["prediction_ids"][row],
                    "text": table["text"][row],  # needed when the log keeps no texts
                    "label": right,
                }
            )
            st.success(
                f"Correction saved ({sent['id']}): {sent['label']}"
                + (" — the model said otherwise." if sent.get("disagrees") else ".")
            )
