"""Models: metrics, versions, aliases, loaded state; load, unload, promote, download, upload,
remove and remove all (confirmed)."""

from typing import Any

import pandas as pd
import streamlit as st

from frontend import auth, quality_views
from frontend.ui import call, get_client, model_label, reported_errors

CONFIRM_REMOVE_ALL = "models_confirm_remove_all"
DOWNLOADED = "models_downloaded"  # {"model_id", "content"} of the last prepared download
METRIC_COLUMNS = (
    "accuracy",
    "f1",
    "precision",
    "recall",
    "roc_auc",
    "macro_f1",
    "average_precision",
    "threshold",
)
FLASH = "models_flash"  # a success message to show after the rerun that refreshes the table


def models_table(models: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per model, metrics flattened into columns."""
    rows = []
    for model in models:
        metrics = model.get("metrics") or {}
        rows.append(
            {
                "name": model.get("name"),
                "version": model.get("version"),
                "model_type": model.get("model_type"),
                "status": model.get("status"),
                "loaded": bool(model.get("loaded")),
                "default": bool(model.get("is_default")),
                "aliases": ", ".join(model.get("aliases") or []),
                **{key: metrics.get(key) for key in METRIC_COLUMNS},
                "dataset_id": model.get("dataset_id"),
                "created_at": model.get("created_at"),
                "id": model.get("id"),
            }
        )
    return pd.DataFrame(rows)


def done(message: str) -> None:
    """Remember a success message and redraw the page with fresh data."""
    st.session_state[FLASH] = message
    st.rerun()


def actions(model: dict[str, Any]) -> None:
    """Buttons acting on one model."""
    client = get_client()
    model_id = model["id"]
    auth.explain(auth.EDITOR, "Load, Unload, Remove and Promote")
    columns = st.columns(4)
    with columns[0]:
        load = auth.action_button(
            "Load", auth.EDITOR, key="models_load", disabled=bool(model.get("loaded"))
        )
    if load:
        with reported_errors():
            client.load_model(model_id)
            done(f"Loaded {model_label(model)}.")
    with columns[1]:
        unload = auth.action_button(
            "Unload", auth.EDITOR, key="models_unload", disabled=not model.get("loaded")
        )
    if unload:
        with reported_errors():
            client.unload_model(model_id)
            done(f"Unloaded {model_label(model)}.")
    with columns[2]:
        remove = auth.action_button(
            "Remove", auth.EDITOR, key="models_remove", disabled=bool(model.get("is_default"))
        )
    if remove:
        with reported_errors():
            client.remove_model(model_id)
            st.session_state.pop("models_choice", None)
            done(f"Removed {model_label(model)}.")
    with columns[3]:
        download = auth.action_button("Prepare download", auth.ADMIN, key="models_download")
    if download:
        with reported_errors():
            content = client.download_model(model_id)
            st.session_state[DOWNLOADED] = {"model_id": model_id, "content": content}
    prepared = st.session_state.get(DOWNLOADED)
    if prepared and prepared["model_id"] == model_id:
        st.download_button(
            f"Save {model.get('name')}-v{model.get('version')}.skops",
            prepared["content"],
            file_name=f"{model.get('name')}-v{model.get('version')}.skops",
            mime="application/octet-stream",
            key="models_save",
        )

    with st.form("models_promote"):
        alias = st.text_input(
            "Alias",
            value="production",
            help="Moves the alias from this name's previous holder; predict with name@alias",
        )
        if auth.action_submit("Promote", auth.EDITOR):
            with reported_errors():
                client.promote(model_id, alias.strip())
                done(f"{model.get('name')} v{model.get('version')} is now @{alias.strip()}.")


def upload_section() -> None:
    """Upload a skops file as a new model (admin)."""
    if not auth.explain(auth.ADMIN, "Model upload"):
        return
    with st.expander("Upload a model (.skops)"):
        with st.form("models_upload", clear_on_submit=True):
            file = st.file_uploader("skops file", type=["skops"], key="models_upload_file")
            name = st.text_input("Name", key="models_upload_name")
            submitted = st.form_submit_button("Upload")
        if submitted:
            if file is None or not name.strip():
                st.error("Choose a .skops file and give the model a name.")
            else:
                with reported_errors():
                    uploaded = get_client().upload_model(file.getvalue(), file.name, name.strip())
                    done(f"Uploaded {model_label(uploaded)}.")


def remove_all_section() -> None:
    """Remove every non-default model, after an explicit confirmation."""
    if not st.session_state.get(CONFIRM_REMOVE_ALL):
        if auth.action_button("Remove all models…", auth.ADMIN, key="models_remove_all"):
            st.session_state[CONFIRM_REMOVE_ALL] = True
            st.rerun()
        return
    st.warning("Remove **every** model except the default ones? This cannot be undone.")
    columns = st.columns(2)
    if columns[0].button("Yes, remove all", type="primary", key="models_remove_all_yes"):
        st.session_state[CONFIRM_REMOVE_ALL] = False
        with reported_errors():
            removed = get_client().remove_all_models().get("removed", [])
            st.session_state.pop("models_choice", None)
            done(f"Removed {len(removed)} model(s).")
    if columns[1].button("Cancel", key="models_remove_all_no"):
        st.session_state[CONFIRM_REMOVE_ALL] = False
        st.rerun()


st.title("Models")
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH))
models = call(get_client().list_models, stop=True) or []
if not models:
    st.info("No models yet: train one on the **Train** page.")
else:
    st.dataframe(
        models_table(models),
        hide_index=True,
        column_config={
            key: st.column_config.NumberColumn(key, format="%.3f") for key in METRIC_COLUMNS
        },
        key="models_table",
    )
    by_id = {model["id"]: model for model in models}
    chosen = st.selectbox(
        "Model",
        list(by_id),
        format_func=lambda model_id: model_label(by_id[model_id]),
        key="models_choice",
    )
    selected = by_id[chosen]
    with st.expander("Parameters and vectorizer"):
        st.json(
            {
                "model_type": selected.get("model_type"),
                "params": selected.get("params"),
                "vectorizer": selected.get("vectorizer"),
            }
        )
    per_class = quality_views.per_class_table(selected.get("metrics") or {})
    if per_class is not None:
        st.caption("Per class, on the held-out split")
        st.dataframe(per_class, key="models_per_class")
    with st.expander("Decision threshold", expanded=len(selected.get("classes") or []) == 2):
        quality_views.threshold_section(selected, done)
    actions(selected)
st.divider()
upload_section()
remove_all_section()
