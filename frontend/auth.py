"""Who uses this browser session: sign-in, the role, and what the role may do.

Each visitor signs in with their own API token (no shared privileged token in the app). The
token is checked against `GET /api/v1/whoami` and then kept in `st.session_state` only: that is
server memory tied to this browser tab's websocket session, never a URL, a cookie, a log line
or a file. A reload starts a new session, so the visitor signs in again; sign-out forgets it.

Pages ask `can(EDITOR)` before drawing an action, or draw it with `action_button` /
`action_submit`, which disable it with a one-line reason for a role that is too low. The roles
each action needs mirror the backend's (API.md): viewer reads and predicts, editor changes
datasets and models, admin also removes all models and moves model files. The backend still
enforces every rule; the app only avoids offering buttons that would answer 403.

An open backend (no API_TOKENS) needs no sign-in: every action is offered, under a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import streamlit as st

from frontend.client import BackendClient, BackendError, ClientError
from frontend.settings import FrontendSettings, load_settings

logger = logging.getLogger("frontend.auth")

Role = Literal["viewer", "editor", "admin"]
VIEWER: Role = "viewer"
EDITOR: Role = "editor"
ADMIN: Role = "admin"
ROLE_RANK: dict[str, int] = {VIEWER: 0, EDITOR: 1, ADMIN: 2}

# Keys of st.session_state owned by this module.
_TOKEN = "auth_token"  # the visitor's token, as typed; absent when signed out or a guest
_GUEST = "auth_guest"  # True while the visitor uses the read-only guest mode
_IDENTITY = "auth_identity"  # the last whoami answer for this session, as an Identity
_NOTICE = "auth_notice"  # why the visitor is back at the sign-in form (shown once)
_TOKEN_INPUT = "auth_token_input"  # the sign-in form's password field
_PROBLEM = "auth_problem"  # the ClientError that kept this run from checking the token

OPEN_WARNING = (
    "The backend runs open (no API_TOKENS): every visitor can do everything, including "
    "removing models. Set API_TOKENS on the backend before sharing this app."
)


@dataclass(frozen=True)
class Identity:
    """What whoami said about this session's token."""

    role: Role | None  # None when the backend runs open
    open: bool
    guest: bool = False


# -- the session's backend client --------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _shared_pool(base_url: str, timeout: float) -> httpx.Client:
    # One connection pool per backend URL for all sessions; it carries no credentials, each
    # session's client adds its own token to every request (httpx.Client is thread-safe).
    return httpx.Client(base_url=base_url, timeout=timeout)


def client_for(token: str | None, settings: FrontendSettings | None = None) -> BackendClient:
    """A backend client that sends `token` (None: no Authorization header)."""
    current = settings or load_settings()
    pool = _shared_pool(current.backend_url, current.request_timeout_s)
    return BackendClient(current.backend_url, token, current.request_timeout_s, pool=pool)


def _guest_token(settings: FrontendSettings) -> str | None:
    token = settings.guest_viewer_token
    return token.get_secret_value() if token else None


def session_token() -> str | None:
    """The token this session calls the backend with (the guest token in guest mode)."""
    if st.session_state.get(_GUEST):
        return _guest_token(load_settings())
    return st.session_state.get(_TOKEN)


def session_client() -> BackendClient:
    """The backend client of this browser session; stops a run that has no checked identity.

    app.py registers no page before sign-in, but Streamlit's pages/-directory mode can run a
    page file without app.py: the first run of a fresh server process requested at a page's
    URL does. Every page gets its client here, so such a run shows nothing from the backend."""
    if identity() is None:
        st.stop()
    return client_for(session_token())


# -- what the role may do ----------------------------------------------------------------------


def identity() -> Identity | None:
    """This session's checked identity; None before a token checked out."""
    return st.session_state.get(_IDENTITY)


def current_role() -> Role | None:
    """The signed-in role; None when signed out or when the backend runs open."""
    known = identity()
    return known.role if known else None


def is_open() -> bool:
    """True when the backend has no tokens (everyone may do everything)."""
    known = identity()
    return bool(known and known.open)


def can(needed: Role) -> bool:
    """Whether this session's role allows an action that needs `needed`."""
    known = identity()
    if known is None:
        return False
    if known.open:
        return True
    return known.role is not None and ROLE_RANK[known.role] >= ROLE_RANK[needed]


def reason(needed: Role) -> str:
    """One line saying why an action is not offered to this session."""
    role = current_role()
    who = "a guest (read-only)" if (identity() or Identity(None, False)).guest else role
    return f"Needs the {needed} role; you are signed in as {who or 'nobody'}."


def explain(needed: Role, what: str) -> bool:
    """True when allowed; otherwise one caption `<what>: <reason>` and False."""
    if can(needed):
        return True
    st.caption(f":material/lock: {what}: {reason(needed)}")
    return False


def action_button(label: str, needed: Role, *, key: str, **kwargs: Any) -> bool:
    """`st.button` that is disabled, with the reason as its tooltip, for a role too low.

    Returns True only when clicked and allowed. `disabled=True` in kwargs still disables it
    (e.g. "Unload" on a model that is not loaded)."""
    allowed = can(needed)
    if not allowed:
        kwargs["disabled"] = True
        kwargs["help"] = reason(needed)
    return bool(st.button(label, key=key, **kwargs)) and allowed


def action_submit(label: str, needed: Role, **kwargs: Any) -> bool:
    """`st.form_submit_button` disabled with its reason for a role too low (see action_button)."""
    allowed = can(needed)
    if not allowed:
        kwargs["disabled"] = True
        kwargs["help"] = reason(needed)
    return bool(st.form_submit_button(label, **kwargs)) and allowed


# -- sign-in, sign-out -------------------------------------------------------------------------


def sign_out(notice: str | None = None) -> None:
    """Forget the token and the role of this session."""
    for key in (_TOKEN, _TOKEN_INPUT, _GUEST, _IDENTITY):
        st.session_state.pop(key, None)
    if notice:
        st.session_state[_NOTICE] = notice


def _check(token: str | None, guest: bool = False) -> Identity:
    """Ask the backend who `token` is; raises ClientError (401 for an unknown token)."""
    answer = client_for(token).whoami()
    role = answer.get("role")
    known_role = role if role in ROLE_RANK else None
    return Identity(role=known_role, open=bool(answer.get("open")), guest=guest)


def _refresh() -> Identity | None:
    """Re-check this session's token on every run, so a revoked token signs the visitor out.

    Returns None when the visitor must sign in (the notice says why, if anything failed)."""
    guest = bool(st.session_state.get(_GUEST))
    token = session_token()
    try:
        known = _check(token, guest)
    except BackendError as exc:
        st.session_state.pop(_IDENTITY, None)
        if exc.status == 401:
            if token is not None:
                sign_out("Your token is no longer accepted by the backend: sign in again.")
            return None
        raise
    if guest and not known.open and known.role != VIEWER:
        # A guest token with write rights would be the shared privileged token we refuse.
        logger.error("GUEST_VIEWER_TOKEN has the %s role, not viewer: guest mode off", known.role)
        sign_out("Guest mode is misconfigured (its token is not a viewer's) and is off.")
        return None
    st.session_state[_IDENTITY] = known
    return known


def _guest_available(settings: FrontendSettings) -> bool:
    return _guest_token(settings) is not None


def _sign_in_form(settings: FrontendSettings) -> None:
    """The only thing a signed-out visitor sees on a backend with tokens."""
    st.title("Sign in")
    st.write(
        "This service needs an API token. Paste **your own** token (ask the service's "
        "administrator for one); it is kept only in this browser tab's session and "
        "forgotten when you sign out or close the tab."
    )
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.warning(notice)
    with st.form("auth_sign_in", clear_on_submit=True):
        typed = st.text_input("API token", type="password", key=_TOKEN_INPUT)
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        token = typed.strip()
        # The typed value would otherwise stay in the widget's state until the next run.
        st.session_state.pop(_TOKEN_INPUT, None)
        if not token:
            st.error("Paste your API token first.")
            return
        try:
            known = _check(token)
        except BackendError as exc:
            if exc.status == 401:
                st.error(
                    "Sign-in refused: the backend does not know this token. Check it and try again."
                )
            else:
                st.error(f"Sign-in failed: backend error {exc.status}: {exc.detail}")
            return
        except ClientError as exc:
            st.error(f"Sign-in failed: {exc}")
            return
        st.session_state[_TOKEN] = token
        st.session_state[_IDENTITY] = known
        logger.info("a session signed in as %s", known.role)  # the role, never the token
        st.rerun()
    if _guest_available(settings):
        st.divider()
        if st.button("Continue as guest (read-only)", key="auth_guest_button"):
            st.session_state[_GUEST] = True
            st.rerun()


def check_session() -> Identity | None:
    """Check this session's token against the backend; run at the top of every app run.

    None means the visitor may see nothing but the sign-in page (`sign_in_page`): not signed
    in, a token the backend no longer accepts, or a backend that cannot be asked."""
    st.session_state.pop(_PROBLEM, None)
    try:
        return _refresh()
    except ClientError as exc:
        st.session_state[_PROBLEM] = exc
        return None


def sign_in_page() -> None:
    """The only page of a session without a checked identity."""
    problem = st.session_state.get(_PROBLEM)
    if problem is not None:
        # Unreachable or failing backend: say so, and offer nothing else.
        from frontend.ui import show_error  # ui imports this module; importing here avoids a cycle

        st.title("Sign in")
        show_error(problem)
        return
    _sign_in_form(load_settings())


def sidebar_identity() -> None:
    """Who is signed in, and the sign-out button; the open-backend warning instead if open."""
    known = identity()
    if known is None:
        return
    if known.open:
        st.sidebar.warning(OPEN_WARNING, icon=":material/lock_open:")
        return
    who = "guest (read-only)" if known.guest else known.role
    st.sidebar.caption(f"Signed in as **{who}**")
    if st.sidebar.button("Sign out", key="auth_sign_out"):
        sign_out("You signed out.")
        logger.info("a session signed out")
        st.rerun()
