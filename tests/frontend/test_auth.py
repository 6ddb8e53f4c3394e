"""Sign-in and roles in the web UI (frontend/auth.py), through AppTest against a real backend
with API_TOKENS. The same story runs in Chromium in test_e2e_auth.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.frontend.conftest import APP_PATH, APP_TIMEOUT_S, TOKENS, open_page, texts_of
from tests.servers import ServerProcess

PAGES = ("data", "eda", "train", "tasks", "models", "predict", "compare", "predictions")


def button(at: AppTest, label: str) -> Any:
    """The button (plain or form submit) with this label."""
    matches = [b for b in [*at.button, *at.get("form_submit_button")] if b.label == label]
    assert matches, f"no button {label!r} among {[b.label for b in at.button]}"
    return matches[0]


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]  # form submit buttons included


@pytest.fixture()
def signed_out(
    token_backend: tuple[ServerProcess, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AppTest:
    server, _ = token_backend
    monkeypatch.setenv("BACKEND_URL", server.url)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "log"))
    monkeypatch.delenv("GUEST_VIEWER_TOKEN", raising=False)
    at = AppTest.from_file(APP_PATH, default_timeout=APP_TIMEOUT_S).run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, token: str) -> AppTest:
    at.text_input(key="auth_token_input").input(token)
    button(at, "Sign in").click().run()
    assert not at.exception, at.exception
    return at


def test_nothing_but_the_sign_in_form_before_a_token(
    signed_out: AppTest, token_backend: tuple[ServerProcess, dict[str, Any]]
) -> None:
    _, seeded = token_backend
    assert texts_of(signed_out.title) == ["Sign in"]
    assert signed_out.text_input(key="auth_token_input").proto.type == 1  # PASSWORD
    assert labels(signed_out) == ["Sign in"]  # no guest button: guest mode is off by default
    shown = " ".join(str(element.value) for element in signed_out.main if hasattr(element, "value"))
    assert seeded["dataset"]["id"] not in shown and seeded["model_id"] not in shown
    assert not signed_out.dataframe and not signed_out.selectbox
    for page in PAGES:  # no page is registered, so none can be opened by its URL
        with pytest.raises(ValueError, match="Known pages"):
            signed_out.switch_page(f"pages/{page}.py")


def test_wrong_token_is_refused_with_a_clear_message(signed_out: AppTest) -> None:
    sign_in(signed_out, "not-a-token-of-this-backend")
    assert texts_of(signed_out.title) == ["Sign in"]
    assert any("does not know this token" in text for text in texts_of(signed_out.error))
    # The form is cleared: the wrong token is not kept anywhere in the session.
    assert "not-a-token-of-this-backend" not in repr(signed_out.session_state.to_dict())


def test_viewer_sees_no_editor_action(signed_out: AppTest) -> None:
    at = sign_in(signed_out, TOKENS["viewer"])
    assert texts_of(at.title) == ["Data"]
    assert "Signed in as **viewer**" in texts_of(at.sidebar.caption)

    open_page(at, "models")
    for label in ("Load", "Remove", "Promote", "Prepare download", "Remove all models…"):
        assert button(at, label).disabled, label
    assert any("Needs the editor role" in text for text in texts_of(at.caption))
    assert not any(b.label == "Upload" for b in at.get("form_submit_button"))

    open_page(at, "train")
    assert not at.get("form_submit_button"), "no Train form for a viewer"
    assert any("Training: Needs the editor role" in text for text in texts_of(at.caption))

    open_page(at, "data")
    assert button(at, "Delete this dataset").disabled

    # Reading and predicting stay open to a viewer.
    open_page(at, "predict")
    assert not at.error, texts_of(at.error)
    assert not button(at, "Predict").disabled


def test_editor_may_act_but_not_admin_actions(signed_out: AppTest) -> None:
    at = sign_in(signed_out, TOKENS["editor"])
    open_page(at, "models")
    assert not button(at, "Promote").disabled and not button(at, "Load").disabled
    assert button(at, "Prepare download").disabled and button(at, "Remove all models…").disabled
    assert any("Model upload: Needs the admin role" in text for text in texts_of(at.caption))
    open_page(at, "train")
    assert not button(at, "Train").disabled


def test_guest_mode_reads_with_a_viewer_token_only(
    token_backend: tuple[ServerProcess, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server, seeded = token_backend
    monkeypatch.setenv("BACKEND_URL", server.url)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setenv("GUEST_VIEWER_TOKEN", TOKENS["viewer"])
    at = AppTest.from_file(APP_PATH, default_timeout=APP_TIMEOUT_S).run()
    button(at, "Continue as guest (read-only)").click().run()
    assert texts_of(at.title) == ["Data"]
    assert "Signed in as **guest (read-only)**" in texts_of(at.sidebar.caption)
    open_page(at, "models")
    assert button(at, "Promote").disabled
    assert any(seeded["model_id"] in option for option in at.selectbox(key="models_choice").options)

    # An editor token as the guest token would be a shared privileged token: refused.
    monkeypatch.setenv("GUEST_VIEWER_TOKEN", TOKENS["editor"])
    at = AppTest.from_file(APP_PATH, default_timeout=APP_TIMEOUT_S).run()
    button(at, "Continue as guest (read-only)").click().run()
    assert texts_of(at.title) == ["Sign in"]
    assert any("not a viewer's" in text for text in texts_of(at.warning))


def test_open_backend_needs_no_sign_in_and_warns(app: AppTest) -> None:
    assert texts_of(app.title) == ["Data"]
    assert any("runs open" in text for text in texts_of(app.sidebar.warning))
    open_page(app, "models")
    assert not button(app, "Remove all models…").disabled
