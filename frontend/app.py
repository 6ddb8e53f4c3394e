"""Entry point: `streamlit run frontend/app.py`. Navigation only; each page is a file in pages/."""

import sys
from pathlib import Path

# `streamlit run` puts frontend/ on sys.path, not the repo root; pages import `frontend.*`.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402

from frontend import auth  # noqa: E402
from frontend.ui import backend_status_sidebar, settings  # noqa: E402

st.set_page_config(page_title="Text classifiers", page_icon=":material/science:", layout="wide")

PAGES = {
    "Data": [
        st.Page("pages/data.py", title="Data", icon=":material/description:", default=True),
        st.Page("pages/eda.py", title="EDA", icon=":material/query_stats:"),
    ],
    "Models": [
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/tasks.py", title="Tasks", icon=":material/pending_actions:"),
        st.Page("pages/models.py", title="Models", icon=":material/inventory_2:"),
    ],
    "Use": [
        st.Page("pages/predict.py", title="Predict", icon=":material/online_prediction:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
        st.Page("pages/errors.py", title="Errors", icon=":material/rule:"),
        st.Page("pages/predictions.py", title="Prediction log", icon=":material/receipt_long:"),
        st.Page("pages/monitor.py", title="Monitor", icon=":material/monitor_heart:"),
    ],
}

settings()  # logging configured before the first backend call
if auth.check_session() is None:
    # Nothing but the sign-in form, not even the page list, until the visitor's token checks
    # out. Navigation is still declared, so no page file of pages/ can be reached by its URL.
    page = st.navigation(
        [st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:")], position="hidden"
    )
else:
    page = st.navigation(PAGES)
    auth.sidebar_identity()
    backend_status_sidebar()
page.run()
