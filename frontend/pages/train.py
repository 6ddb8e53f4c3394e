"""Train: choose a model type, vectorizer and hyperparameters; submit a fit and see its task."""

from typing import Any

import pandas as pd
import streamlit as st

from frontend import auth
from frontend import model_forms as forms
from frontend.ui import call, dataset_picker, get_client, reported_errors

LAST_FIT = "train_last_fit"


def param_widget(model_type: str, spec: forms.ParamSpec) -> Any:
    """One input per hyperparameter, bounded like the backend's validation."""
    key = f"train_{model_type}_{spec.name}"
    label = spec.name
    if spec.kind == "bool":
        return st.checkbox(label, value=spec.default, help=spec.help, key=key)
    if spec.kind == "choice":
        return st.selectbox(
            label,
            list(spec.choices),
            index=list(spec.choices).index(spec.default),
            format_func=lambda choice: "none" if choice is None else str(choice),
            help=spec.help,
            key=key,
        )
    if spec.kind == "int":
        return int(
            st.number_input(
                label,
                min_value=int(spec.minimum) if spec.minimum is not None else None,
                value=int(spec.default),
                step=1,
                help=spec.help,
                key=key,
            )
        )
    step = spec.step or 0.1
    # number_input has no exclusive bound; "> 0" is enforced by validate_params on submit.
    return float(
        st.number_input(
            label,
            min_value=float(spec.minimum) if spec.minimum is not None else None,
            value=float(spec.default),
            step=step,
            format="%.6f" if step < 0.001 else "%.4f",
            help=spec.help,
            key=key,
        )
    )


def vectorizer_widgets(vectorizer_type: str) -> dict[str, Any]:
    """Inputs for the vectorizer; returns the `vectorizer` object of the fit request."""
    defaults = forms.VECTORIZER_DEFAULTS
    low_limit, high_limit = forms.NGRAM_LIMITS
    columns = st.columns(3)
    analyzer = columns[0].selectbox("analyzer", list(forms.ANALYZERS), key="train_analyzer")
    ngram_min = columns[1].number_input(
        "n-gram min", low_limit, high_limit, defaults["ngram_range"][0], key="train_ngram_min"
    )
    ngram_max = columns[2].number_input(
        "n-gram max", low_limit, high_limit, defaults["ngram_range"][1], key="train_ngram_max"
    )
    columns = st.columns(3)
    min_df = columns[0].number_input(
        "min_df",
        min_value=0.0001,
        value=float(defaults["min_df"]),
        step=1.0,
        format="%.4f",
        help="A whole count ≥ 1 of documents, or a share of documents in (0, 1)",
        key="train_min_df",
    )
    max_df = columns[1].number_input(
        "max_df",
        min_value=0.0001,
        max_value=1.0,
        value=float(defaults["max_df"]),
        step=0.05,
        help="Ignore terms in more than this share of documents, in (0, 1]",
        key="train_max_df",
    )
    max_features = columns[2].number_input(
        "max_features",
        min_value=0,
        value=0,
        step=1000,
        help="Keep the most frequent terms only; 0 = no limit",
        key="train_max_features",
    )
    columns = st.columns(3)
    lowercase = columns[0].checkbox("lowercase", value=defaults["lowercase"], key="train_lower")
    vectorizer: dict[str, Any] = {
        "type": vectorizer_type,
        "analyzer": analyzer,
        "ngram_range": [int(ngram_min), int(ngram_max)],
        "min_df": forms.normalize_min_df(min_df),
        "max_df": float(max_df),
        "max_features": int(max_features) or None,
        "lowercase": lowercase,
    }
    if vectorizer_type == "tfidf":
        vectorizer["sublinear_tf"] = columns[1].checkbox(
            "sublinear_tf", value=defaults["sublinear_tf"], key="train_sublinear"
        )
    if min_df >= 1 and not float(min_df).is_integer():
        # Caught here because normalize_min_df would silently truncate 2.5 to 2.
        vectorizer["min_df"] = float(min_df)
    return vectorizer


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
datasets = call(client.list_datasets, stop=True) or []
dataset = dataset_picker(datasets, key="train_dataset")
if dataset is None:
    st.stop()

top = st.columns(2)
model_type = top[0].selectbox(
    "Model type",
    list(forms.MODEL_TYPES),
    format_func=lambda name: f"{forms.MODEL_TYPES[name]} ({name})",
    key="train_model_type",
)
vectorizer_type = top[1].selectbox(
    "Vectorizer",
    list(forms.VECTORIZER_TYPES),
    format_func=lambda name: f"{forms.VECTORIZER_TYPES[name]} ({name})",
    key="train_vectorizer_type",
)

with st.form("train_form"):
    name = st.text_input("Model name", value=f"{model_type}-{dataset.get('name', 'model')}")
    st.markdown("**Hyperparameters**")
    param_columns = st.columns(2)
    params = {}
    for index, spec in enumerate(forms.MODEL_PARAMS[model_type]):
        with param_columns[index % 2]:
            params[spec.name] = param_widget(model_type, spec)
    st.markdown("**Vectorizer**")
    vectorizer = vectorizer_widgets(vectorizer_type)
    st.markdown("**Split**")
    split_columns = st.columns(2)
    test_size = split_columns[0].number_input(
        "test_size",
        0.01,
        0.99,
        forms.TEST_SIZE_DEFAULT,
        0.05,
        key="train_test_size",
        help="Share of rows held out for the metrics",
    )
    random_state = split_columns[1].number_input(
        "random_state", value=forms.RANDOM_STATE_DEFAULT, step=1, key="train_random_state"
    )
    submitted = st.form_submit_button("Train", type="primary")

if submitted:
    try:
        request = forms.build_fit_request(
            name=name,
            dataset_id=dataset["id"],
            model_type=model_type,
            params=params,
            vectorizer=vectorizer,
            test_size=float(test_size),
            random_state=int(random_state),
        )
    except ValueError as exc:
        st.error("Please fix:\n\n" + "\n".join(f"- {line}" for line in str(exc).splitlines()))
    else:
        with reported_errors():
            accepted = client.fit(request)
            st.session_state[LAST_FIT] = accepted
            st.success(
                f"Training started: task `{accepted['task_id']}`, model `{accepted['model_id']}`."
            )

if LAST_FIT in st.session_state:
    st.subheader("Submitted task")
    show_task(st.session_state[LAST_FIT]["task_id"])
