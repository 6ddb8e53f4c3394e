"""Monitor: per model, traffic, drift against the validation split, and moderators' feedback."""

import datetime as dt
from typing import Any

import streamlit as st

from frontend import auth
from frontend.client import ClientError
from frontend.monitor_charts import (
    badge,
    histogram_over_reference,
    hourly_bars,
    psi_lines,
    psi_series,
)
from frontend.ui import call, get_client, model_label, reported_errors, trained_models

SLOTS = 8  # windows of the PSI-over-time chart


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def psi_over_time(model_id: str, start: dt.datetime, end: dt.datetime) -> list[Any]:
    """(window end, report) for SLOTS consecutive windows between start and end."""
    step = (end - start) / SLOTS
    reports = []
    for index in range(SLOTS):
        slot_end = start + step * (index + 1)
        try:
            reports.append((slot_end, client.drift(model_id, iso(slot_end - step), iso(slot_end))))
        except ClientError:
            continue
    return reports


st.title("Monitor")
client = get_client()
watched = trained_models(client, loaded_first=True)
by_id = {model["id"]: model for model in watched}
columns = st.columns([3, 1])
model_id = columns[0].selectbox(
    "Model", list(by_id), format_func=lambda key: model_label(by_id[key]), key="monitor_model"
)
hours = columns[1].number_input("Window (hours)", 1, 24 * 30, 24, key="monitor_hours")
model = by_id[model_id]
end = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0) + dt.timedelta(seconds=1)
start = end - dt.timedelta(hours=int(hours))

report = call(client.drift, model_id, iso(start), iso(end))
if report is not None:
    text, color = badge(report["status"])
    st.markdown(
        f"Drift: :{color}-badge[{text}] · {report['n']:,} predictions in the window · "
        f"threshold PSI {report['threshold']:g}, at least {report['min_predictions']:,} "
        f"predictions · most moved: **{report.get('most_moved') or '—'}**"
    )
    st.plotly_chart(hourly_bars(report["hourly"]), key="monitor_hourly")
    features = report["features"]
    scores = [name for name in features if name.startswith("score")]
    shown = st.selectbox(
        "Histogram of",
        [*scores, *(n for n in features if n not in scores)],
        key="monitor_feature",
    )
    st.plotly_chart(histogram_over_reference(shown, features[shown]), key="monitor_histogram")
    series = psi_series(psi_over_time(model_id, start, end))
    if series.empty:
        st.caption("No predictions in this window yet: PSI over time appears with traffic.")
    else:
        st.plotly_chart(psi_lines(series, report["threshold"]), key="monitor_psi")

st.subheader("Feedback")
summary = call(client.feedback_summary, model_id)
if summary is not None:
    counts = st.columns(3)
    counts[0].metric("Corrections", f"{summary['n']:,}")
    share = summary.get("disagreement_share")
    counts[1].metric(
        "Disagreed with the model",
        "—" if share is None else f"{share:.0%}",
        help=f"{summary['disagreed']} of {summary['with_prediction']} corrections "
        "whose model answer is known",
    )
    counts[2].metric(
        "By label", ", ".join(f"{k}: {v}" for k, v in summary["by_label"].items()) or "—"
    )
    recent = call(client.list_feedback, model_id, 20) or []
    if recent:
        st.dataframe(
            [
                {k: f.get(k) for k in ("created_at", "text", "predicted", "label", "role")}
                for f in recent
            ],
            hide_index=True,
            key="monitor_feedback",
        )
    st.caption(
        f"Retraining builds a dataset from these corrections and retrains "
        f"**{model['name']}@production** with the accuracy gate: the alias moves only if the "
        "challenger wins on held-out corrections. Needs the editor role."
    )
    if auth.action_button(
        "Build feedback dataset and retrain",
        auth.EDITOR,
        key="monitor_retrain",
        disabled=not summary["n"],
    ):
        with reported_errors():
            dataset = client.feedback_dataset(model_id)
            accepted = client.retrain({"name": model["name"], "dataset_id": dataset["id"]})
            st.success(
                f"Dataset {dataset['id']} ({dataset['rows']} rows); retrain task "
                f"{accepted['task_id']} started. The **Tasks** page shows its decision."
            )
