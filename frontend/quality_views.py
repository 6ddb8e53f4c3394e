"""Streamlit sections of the quality views, kept out of the pages so page edits stay small:
the threshold slider (Models), word highlights (Predict), held-out evaluation hints (Compare)
and the error analysis (Errors). Logic without Streamlit lives in frontend/quality.py.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import streamlit as st

from frontend import auth, charts, quality
from frontend.batches import backend_limits, text_batches
from frontend.client import BackendClient, ClientError
from frontend.ui import get_client, show_error

EXPLAIN_BATCH = 1000  # texts per explain call; far under MAX_PREDICT_BATCH, quick answers
HIGHLIGHT_TEXTS = 50  # Predict highlights the first texts only: it is a reading aid
HIGHLIGHT_TOP_K = 200  # every word of a comment, not only the strongest


def positive_label(model: dict[str, Any]) -> Any:
    classes = model.get("classes") or []
    return (model.get("metrics") or {}).get("positive_label", classes[-1] if classes else None)


def per_class_table(metrics: dict[str, Any]) -> pd.DataFrame | None:
    """precision, recall, f1, support per class, from a model's or evaluation's metrics."""
    per_class = metrics.get("per_class") or {}
    if not per_class:
        return None
    return pd.DataFrame.from_dict(per_class, orient="index").rename_axis("class")


# --- Models: the threshold slider -----------------------------------------------------------


def threshold_section(model: dict[str, Any], on_saved: Any) -> None:
    """Slider over the held-out PR curve: precision, recall, flagged per 1,000; Save (editor)."""
    if len(model.get("classes") or []) != 2 or model.get("status") != "trained":
        st.caption("A decision threshold applies to trained binary models.")
        return
    model_id = model["id"]
    try:
        info = get_client().threshold_info(model_id)
    except ClientError as exc:
        show_error(exc)
        return
    curve = info.get("curve")
    stored = info.get("threshold")
    in_use = stored if stored is not None else info.get("default_threshold")
    st.caption(
        f"Threshold in use: **{in_use:.4f}** on the score of class "
        f"**{info.get('positive_label')}** ({info.get('score_kind')}"
        + (", the default" if stored is None else "")
        + "); a text is flagged at or above it."
    )
    if not curve or not curve.get("thresholds"):
        st.info("No held-out scores for this model (uploaded, or trained before they were kept).")
        return
    indices = quality.slider_indices(curve)
    nearest = quality.nearest_index(curve, in_use)
    start = min(indices, key=lambda i: (abs(i - nearest), i))
    chosen = st.select_slider(
        "Decision threshold (held-out split; left is stricter)",
        options=indices,
        value=start,
        format_func=lambda i: f"{curve['thresholds'][i]:.4f}",
        key=f"threshold_slider_{model_id}",
    )
    point = quality.operating_point(curve, chosen)
    columns = st.columns(4)
    columns[0].metric("Threshold", f"{point['threshold']:.4f}")
    columns[1].metric("Precision", f"{point['precision']:.3f}")
    columns[2].metric("Recall", f"{point['recall']:.3f}")
    columns[3].metric("Flagged per 1,000 texts", f"{point['flagged_per_1000']:.0f}")
    st.plotly_chart(
        charts.pr_curves(
            [
                {
                    "label": f"{model.get('name')} v{model.get('version')}",
                    "precision": curve["precision"],
                    "recall": curve["recall"],
                    "ap": (model.get("metrics") or {}).get("average_precision"),
                }
            ],
            point,
            title="Held-out precision-recall",
        ),
        key=f"threshold_pr_{model_id}",
    )
    if auth.action_button("Save threshold", auth.EDITOR, key="threshold_save"):
        try:
            get_client().set_threshold(model_id, {"threshold": point["threshold"]})
        except ClientError as exc:
            show_error(exc)
            return
        on_saved(f"Threshold {point['threshold']:.4f} saved; predictions use it now.")


# --- Predict: highlights --------------------------------------------------------------------


def explain_texts(client: BackendClient, model: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    """Explanations of the first texts for highlighting, or the reason there are none."""
    # The first texts, as many as one explain request may carry.
    budget = backend_limits(client).max_explain_chars
    shown = next(text_batches(texts[:HIGHLIGHT_TEXTS], max_chars=budget), [])
    try:
        answer = client.explain(model["id"], shown, top_k=HIGHLIGHT_TOP_K)
    except ClientError as exc:
        return {"error": str(getattr(exc, "detail", exc))}
    return {
        "texts": shown,
        "explanations": answer["explanations"],
        "classes": model.get("classes") or [],
        "positive": positive_label(model),
    }


def show_highlights(highlights: dict[str, Any] | None) -> None:
    if not highlights:
        return
    st.subheader("Why")
    if "error" in highlights:
        st.caption(f"No word highlights: {highlights['error']}")
        return
    classes, positive = highlights["classes"], highlights["positive"]
    binary = len(classes) == 2
    st.caption(
        f"Red words pushed toward **{positive}**, green ones away from it."
        if binary
        else "Red words pushed toward the predicted label."
    )
    for text, item in zip(highlights["texts"], highlights["explanations"], strict=True):
        pieces = quality.word_weights(text, quality.toward_positive(item, classes, positive))
        st.markdown(
            f'<div class="tw-highlight" style="margin-bottom: .6rem">'
            f"<b>{item['label']}</b> · score {item['score']:.3f} — "
            f"{quality.highlight_html(pieces)}</div>",
            unsafe_allow_html=True,
        )


# --- Compare: the model's own held-out split --------------------------------------------------


def trained_on(models: list[dict[str, Any]], dataset_id: str) -> list[dict[str, Any]]:
    return [model for model in models if model.get("dataset_id") == dataset_id]


# --- Errors: misclassified texts --------------------------------------------------------------


def dataset_rows(client: BackendClient, dataset_id: str, limit: int) -> pd.DataFrame:
    content = client.download_dataset(dataset_id)
    frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    return frame.head(limit)


def find_errors(
    client: BackendClient, model: dict[str, Any], dataset_id: str, limit: int
) -> pd.DataFrame:
    """The model's mistakes on the first `limit` rows of a dataset, with explanations."""
    frame = dataset_rows(client, dataset_id, limit)
    texts = frame["text"].tolist()
    explanations: list[dict[str, Any]] = []
    budget = backend_limits(client).max_explain_chars
    for chunk in text_batches(texts, max_texts=EXPLAIN_BATCH, max_chars=budget):
        explanations += client.explain(model["id"], chunk, top_k=10)["explanations"]
    return quality.misclassified(texts, frame["label"].tolist(), explanations)
