"""Streamlit pieces every page shares: this session's backend client, error display, pickers.

Pages never catch httpx errors themselves: they call the backend inside `reported_errors()` or
through `call()`, which turn `BackendError` / `BackendUnreachable` into a readable `st.error`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st

from frontend import auth
from frontend.client import BackendClient, BackendError, BackendUnreachable, ClientError
from frontend.settings import FrontendSettings, load_settings
from toxiclf_logging import configure_logging

T = TypeVar("T")
logger = logging.getLogger("frontend.ui")

# Keys of st.session_state shared between pages.
CURRENT_DATASET = "current_dataset_id"
# The Data page's CSV for the EDA page: {"name", "fingerprint", "content", "text", "label"}.
UPLOADED_FRAME = "uploaded_frame"


def settings() -> FrontendSettings:
    """Settings for this run (environment read afresh, logging configured once)."""
    current = load_settings()
    configure_logging(current.log_dir / "frontend.log", current.log_level, "frontend")
    return current


def get_client() -> BackendClient:
    """The backend client of this browser session (its signed-in token, see auth.py)."""
    settings()  # logging configured before the first call is logged
    return auth.session_client()


def error_message(exc: ClientError) -> str:
    """What an analyst reads for a failed backend call."""
    if isinstance(exc, BackendUnreachable):
        reason = f" ({exc.reason})" if exc.reason else ""
        return (
            f"The backend is unreachable at {exc.url}{reason}. Is it running? "
            "Set BACKEND_URL to its address."
        )
    if isinstance(exc, BackendError):
        hints = {
            401: " Your token is not accepted: sign in again.",
            403: f" Your role ({auth.current_role() or 'none'}) does not allow this.",
        }
        return f"Backend error {exc.status}: {exc.detail}{hints.get(exc.status, '')}"
    return str(exc)


def show_error(exc: ClientError) -> None:
    """Render a client error as a Streamlit error box (never a traceback)."""
    logger.warning("backend call failed: %s", exc)
    st.error(error_message(exc), icon=":material/error:")


@contextmanager
def reported_errors() -> Iterator[None]:
    """Run a block of backend calls; a failure shows `detail` and skips the rest of the block."""
    try:
        yield
    except ClientError as exc:
        show_error(exc)


def call(function: Callable[..., T], *args: Any, stop: bool = False, **kwargs: Any) -> T | None:
    """`function(*args, **kwargs)`, or None after showing the error; `stop` ends the page there."""
    try:
        return function(*args, **kwargs)
    except ClientError as exc:
        show_error(exc)
        if stop:
            st.stop()
        return None


def trained_models(client: BackendClient, loaded_first: bool = False) -> list[dict[str, Any]]:
    """The backend's trained models (loaded ones first if asked: they answer at once); the
    page stops there with a hint when there is none."""
    models = call(client.list_models, stop=True) or []
    trained = [model for model in models if model.get("status") == "trained"]
    if not trained:
        st.info("No trained models yet: train one on the **Train** page.")
        st.stop()
    if loaded_first:
        trained.sort(key=lambda model: not model.get("loaded"))
    return trained


def dataset_label(dataset: dict[str, Any]) -> str:
    """How a dataset reads in a selectbox."""
    return f"{dataset.get('name') or dataset['id']} · {dataset.get('rows', '?')} rows"


def model_label(model: dict[str, Any]) -> str:
    """How a model reads in a selectbox: name v<version> [aliases] (id)."""
    aliases = model.get("aliases") or []
    alias_text = f" @{', @'.join(aliases)}" if aliases else ""
    loaded = " ●" if model.get("loaded") else ""
    return f"{model.get('name')} v{model.get('version')}{alias_text}{loaded} · {model['id']}"


def synced_selectbox(
    label: str,
    options: list[str],
    key: str,
    shared_key: str,
    format_func: Callable[[str], str] = str,
) -> str:
    """A selectbox whose choice is shared across pages through `st.session_state[shared_key]`.

    Widget state is dropped when a page is left, so the shared value is copied into the widget
    before it is drawn (not via `index`, which Streamlit ignores once the widget has state).
    """
    shared = st.session_state.get(shared_key)
    if shared in options:
        st.session_state[key] = shared
    elif st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    chosen = st.selectbox(label, options, key=key, format_func=format_func)
    st.session_state[shared_key] = chosen
    return chosen


def dataset_picker(
    datasets: list[dict[str, Any]], key: str, label: str = "Dataset"
) -> dict[str, Any] | None:
    """A selectbox of server datasets preselecting the session's current one; None if none."""
    if not datasets:
        st.info("No datasets on the server yet: upload a CSV on the **Data** page.")
        return None
    by_id = {dataset["id"]: dataset for dataset in datasets}
    chosen = synced_selectbox(
        label,
        list(by_id),
        key,
        CURRENT_DATASET,
        lambda dataset_id: dataset_label(by_id[dataset_id]),
    )
    return by_id[chosen]


def backend_status_sidebar() -> None:
    """One line in the sidebar: which backend, and whether it answers."""
    current = settings()
    try:
        get_client().health()
    except ClientError as exc:
        st.sidebar.error(error_message(exc))
    else:
        # A text symbol: colour emoji are empty boxes where no emoji font is installed.
        st.sidebar.caption(f"Backend: {current.backend_url} ✓")
