"""Train: choose a model type, vectorizer and hyperparameters; submit a fit and see its task.

Every input is built from the schemas the backend serves (GET /api/v1/model_types), so the
form offers exactly the model types, parameters, defaults and bounds the backend validates.
"""

import json
import math
from typing import Any

import pandas as pd
import streamlit as st

from frontend import auth
from frontend import param_schema as schema
from frontend.param_schema import FormField
from frontend.ui import call, dataset_picker, get_client, reported_errors

LAST_FIT = "train_last_fit"


def _step(default: Any) -> float:
    """A step of the default's order of magnitude: 0.1 for 1.0, 0.0001 for 0.0001."""
    if not isinstance(default, int | float) or isinstance(default, bool) or default <= 0:
        return 0.1
    step = 10.0 ** math.floor(math.log10(default))
    return step / 10 if default >= 1 and step >= 1 else step


def _int_bound(value: float | None, exclusive_low: bool = False) -> int | None:
    if value is None:
        return None
    return int(math.floor(value)) + 1 if exclusive_low else int(math.ceil(value))


def field_widget(field: FormField, default: Any, key: str) -> Any:
    """One input for `field`, bounded by its schema; returns the value the fit takes."""
    label, help_text = field.name, field.help or None
    if field.kind == "bool":
        return st.checkbox(label, value=bool(default), help=help_text, key=key)
    if field.kind == "choice":
        choices = list(field.choices)
        return st.selectbox(
            label,
            choices,
            index=choices.index(default) if default in choices else 0,
            format_func=lambda choice: "none" if choice is None else str(choice),
            help=help_text,
            key=key,
        )
    if field.kind == "int":
        branch = field.branches[0]
        whole: int | None = st.number_input(
            label,
            min_value=_int_bound(field.minimum, "exclusiveMinimum" in branch),
            max_value=_int_bound(field.maximum),
            value=None if default is None else int(default),
            step=1,
            help=help_text,
            key=key,
        )
        return whole
    if field.kind in ("float", "number"):
        step = _step(default)
        start: Any = None if default is None else float(default)  # None: an empty input
        number: float | None = st.number_input(
            label,
            min_value=field.minimum,
            max_value=field.maximum,
            value=start,
            step=step,
            format="%.6f" if step < 0.001 else "%.4f",
            help=help_text,
            key=key,
        )
        return schema.to_json_value(field, number)
    if field.kind == "pair":
        items = field.branches[0]["prefixItems"]
        low, high = default if default is not None else (None, None)
        columns = st.columns(2)
        values = [
            column.number_input(
                f"{label} ({end})",
                min_value=_int_bound(item.get("minimum")),
                max_value=_int_bound(item.get("maximum")),
                value=start,
                step=1,
                help=help_text,
                key=f"{key}_{end}",
            )
            for column, item, start, end in zip(
                columns, items, (low, high), ("min", "max"), strict=True
            )
        ]
        present = [int(v) for v in values if v is not None]
        return present if len(present) == len(values) else None
    text = st.text_input(
        f"{label} (JSON)",
        value="" if default is None else json.dumps(default),
        help=help_text,
        key=key,
    )
    try:
        return schema.to_json_value(field, text)
    except ValueError:
        return text  # reported as a problem below


def field_inputs(
    fields: list[FormField], defaults: dict[str, Any], key_prefix: str, columns: int = 2
) -> dict[str, Any]:
    """Inputs for every field, laid out in `columns`; returns name → value."""
    values: dict[str, Any] = {}
    slots = st.columns(columns)
    for index, field in enumerate(fields):
        with slots[index % columns]:
            values[field.name] = field_widget(
                field, defaults.get(field.name), f"{key_prefix}_{field.name}"
            )
    return values


def json_problems(fields: list[FormField], values: dict[str, Any], prefix: str) -> list[str]:
    """Text left in a JSON field that is not JSON."""
    return [
        f"{prefix}{f.name}: not valid JSON"
        for f in fields
        if f.kind == "json" and isinstance(values.get(f.name), str)
    ]


def show_task(task_id: str) -> None:
    """The submitted fit's task, fetched fresh."""
    task = call(get_client().get_task, task_id)
    if task is None:
        return
    st.progress(float(task.get("progress") or 0), text=f"{task['status']} · {task.get('stage')}")
    shown = {k: task.get(k) for k in ("id", "kind", "model_id", "status", "stage", "created_at")}
    st.dataframe(pd.DataFrame([shown]), hide_index=True)
    if task.get("error"):
        st.error(task["error"])
    st.page_link(
        "pages/tasks.py", label="Follow it on the Tasks page", icon=":material/pending_actions:"
    )


st.title("Train")
if not auth.explain(auth.EDITOR, "Training"):
    st.stop()
client = get_client()
catalog = call(client.model_types, stop=True) or {}
datasets = call(client.list_datasets, stop=True) or []
dataset = dataset_picker(datasets, key="train_dataset")
if dataset is None:
    st.stop()

model_types = {entry["name"]: entry for entry in catalog["model_types"]}
vectorizer_schema = catalog["vectorizer_schema"]
vectorizer_defaults = catalog["vectorizer_defaults"]
top = st.columns(2)
model_type = top[0].selectbox(
    "Model type",
    list(model_types),
    format_func=lambda name: f"{model_types[name]['title']} ({name})",
    key="train_model_type",
)
if model_types[model_type]["description"]:
    top[0].caption(model_types[model_type]["description"])
vectorizer_type = top[1].selectbox(
    "Vectorizer",
    list(vectorizer_defaults),
    key="train_vectorizer_type",
    help=vectorizer_schema["properties"]["type"].get("description"),
)

param_fields = schema.form_fields(model_types[model_type]["params_schema"])
param_defaults = {f.name: f.default for f in param_fields}
vectorizer_fields = schema.form_fields(vectorizer_schema, skip=("type",))
split_fields = schema.form_fields(catalog["split_schema"])

with st.form("train_form"):
    name = st.text_input("Model name", value=f"{model_type}-{dataset.get('name', 'model')}")
    st.markdown("**Hyperparameters**")
    params = field_inputs(param_fields, param_defaults, f"train_{model_type}")
    st.markdown("**Vectorizer**")
    vectorizer_shown = vectorizer_defaults[vectorizer_type]
    vectorizer = field_inputs(
        vectorizer_fields, vectorizer_shown, f"train_vectorizer_{vectorizer_type}", columns=3
    )
    st.markdown("**Split**")
    split_defaults = {f.name: f.default for f in split_fields}
    split = field_inputs(split_fields, split_defaults, "train_split")
    submitted = st.form_submit_button("Train", type="primary")

if submitted:
    found = [] if name.strip() else ["name: give the model a name"]
    found += json_problems(param_fields, params, "")
    found += schema.problems(param_fields, params)
    found += json_problems(vectorizer_fields, vectorizer, "vectorizer.")
    found += schema.problems(vectorizer_fields, vectorizer, "vectorizer.")
    found += schema.problems(split_fields, split)
    if found:
        st.error("Please fix:\n\n" + "\n".join(f"- {line}" for line in found))
    else:
        # Only what differs from the defaults shown: the backend fills in the rest and keeps
        # the rules between fields (e.g. a union vectorizer's own defaults).
        request = {
            "name": name.strip(),
            "dataset_id": dataset["id"],
            "model_type": model_type,
            "params": schema.changed(param_fields, params, param_defaults),
            "vectorizer": {
                "type": vectorizer_type,
                **schema.changed(vectorizer_fields, vectorizer, vectorizer_shown),
            },
            **split,
        }
        with reported_errors():
            accepted = client.fit(request)
            st.session_state[LAST_FIT] = accepted
            st.success(
                f"Training started: task `{accepted['task_id']}`, model `{accepted['model_id']}`."
            )

if LAST_FIT in st.session_state:
    st.subheader("Submitted task")
    show_task(st.session_state[LAST_FIT]["task_id"])
