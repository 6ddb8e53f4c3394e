"""Compare: several models on one labelled dataset: ROC curves, metrics, confusion matrices."""

from typing import Any

import pandas as pd
import streamlit as st

from frontend import charts, quality_views
from frontend.client import BackendClient, ClientError
from frontend.ui import call, dataset_picker, get_client, model_label, show_error, trained_models

RESULT = "compare_result"


def sorted_classes(classes: dict[str, Any] | list[Any]) -> list[str]:
    """Dataset classes in the backend's order (numeric labels numerically)."""
    names = [str(name) for name in classes]
    try:
        return sorted(names, key=float)
    except ValueError:
        return sorted(names)


def evaluate(
    client: BackendClient, model: dict[str, Any], dataset_id: str, split: str = "dataset"
) -> dict[str, Any] | None:
    """One model's evaluation, or None after showing why it failed.

    The backend evaluates loaded and unloaded models alike, so nothing is loaded here.
    """
    try:
        return client.evaluate(model["id"], dataset_id, split)
    except ClientError as exc:
        show_error(exc)
        return None


st.title("Compare")
client = get_client()
trained = trained_models(client)
datasets = call(client.list_datasets, stop=True) or []
by_id = {model["id"]: model for model in trained}
# Newest first, so the analyst's fresh models are at hand.
ordered = sorted(by_id, key=lambda key: str(by_id[key].get("created_at")), reverse=True)
chosen_ids = st.multiselect(
    "Models",
    ordered,
    default=ordered[: min(3, len(ordered))],
    format_func=lambda key: model_label(by_id[key]),
    key="compare_models",
)
dataset = dataset_picker(datasets, key="compare_dataset", label="Labelled dataset")
own_split = False
if dataset is not None:
    trained_here = quality_views.trained_on([by_id[key] for key in chosen_ids], dataset["id"])
    if trained_here:
        st.warning(
            f"{', '.join(model_label(m) for m in trained_here)} "
            f"{'was' if len(trained_here) == 1 else 'were'} trained on {dataset.get('name')}: "
            "scores on training rows are inflated."
        )
        own_split = st.checkbox(
            "Score those models on their own held-out split instead",
            value=True,
            key="compare_holdout",
        )
if (
    st.button(
        "Compare", type="primary", disabled=not chosen_ids or dataset is None, key="compare_run"
    )
    and dataset is not None
):
    evaluations = []
    with st.spinner(f"Evaluating {len(chosen_ids)} model(s) on {dataset.get('name')}…"):
        for model_id in chosen_ids:
            model = by_id[model_id]
            split = (
                "holdout" if own_split and model.get("dataset_id") == dataset["id"] else ("dataset")
            )
            outcome = evaluate(client, model, dataset["id"], split)
            if outcome is not None:
                suffix = " (held-out)" if split == "holdout" else ""
                evaluations.append(
                    {
                        "label": model_label(model) + suffix,
                        "short": f"{model.get('name')} v{model.get('version')}{suffix}",
                        **outcome,
                    }
                )
    st.session_state[RESULT] = {
        "dataset": dataset.get("name"),
        "classes": sorted_classes(dataset.get("classes") or []),
        "evaluations": evaluations,
    }

result = st.session_state.get(RESULT)
if result and result["evaluations"]:
    evaluations = result["evaluations"]
    st.subheader(f"On {result['dataset']}")
    curves = [
        {
            "label": item["short"],
            "fpr": (item.get("roc") or {}).get("fpr", []),
            "tpr": (item.get("roc") or {}).get("tpr", []),
            "auc": (item.get("metrics") or {}).get("roc_auc"),
        }
        for item in evaluations
        if item.get("roc")
    ]
    pr_curves = [
        {
            "label": item["short"],
            "precision": item["pr"]["precision"],
            "recall": item["pr"]["recall"],
            "ap": (item.get("metrics") or {}).get("average_precision"),
        }
        for item in evaluations
        if item.get("pr")
    ]
    roc_column, pr_column = st.columns(2)
    if curves:
        roc_column.plotly_chart(charts.roc_curves(curves), key="compare_roc")
    else:
        roc_column.info("No ROC curve: the backend gives one for binary datasets only.")
    if pr_curves:
        pr_column.plotly_chart(charts.pr_curves(pr_curves), key="compare_pr")
    metrics = pd.DataFrame(
        [
            {
                "model": item["label"],
                **{
                    key: value
                    for key, value in (item.get("metrics") or {}).items()
                    # Scores only: counts and the positive label are not metrics to compare.
                    if isinstance(value, float) and key != "positive_label"
                },
            }
            for item in evaluations
        ]
    ).set_index("model")
    st.dataframe(metrics.style.format("{:.4f}"), key="compare_metrics")
    st.plotly_chart(
        charts.metrics_bars(
            metrics,
            ["accuracy", "f1", "precision", "recall", "roc_auc", "macro_f1", "average_precision"],
        ),
        key="compare_metric_bars",
    )
    with st.expander("Per class"):
        for index, item in enumerate(evaluations):
            per_class = quality_views.per_class_table(item.get("metrics") or {})
            if per_class is not None:
                st.caption(item["label"])
                st.dataframe(per_class, key=f"compare_per_class_{index}")
    st.subheader("Confusion matrices")
    matrix_columns = st.columns(min(len(evaluations), 3))
    for index, item in enumerate(evaluations):
        if item.get("confusion_matrix"):
            matrix_columns[index % len(matrix_columns)].plotly_chart(
                charts.confusion_matrix(
                    item["confusion_matrix"],
                    item.get("classes") or result["classes"],
                    item["short"],
                ),
                key=f"compare_cm_{index}",
            )
elif result is not None:
    st.warning("No model could be evaluated; see the errors above.")
