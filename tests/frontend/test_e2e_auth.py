"""Sign-in in a real browser: Debian's chromium (Playwright) against Streamlit and a backend with
API_TOKENS. Sign-in is required, a wrong token is refused, a viewer sees no editor action, an
editor trains, sign-out forgets the token, and the token shows up in no URL, cookie, browser
storage or log file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from frontend.task_rows import STATUS_SYMBOLS
from tests.frontend.conftest import TOKENS
from tests.frontend.test_e2e_browser import (
    WAIT_MS,
    browser,
    choose_option,
    go_to,
    no_exception,
    settle,
)
from tests.servers import ServerProcess, start_frontend

__all__ = ["browser"]  # the fixture, shared with test_e2e_browser

# Draws each symbol on a canvas in the page's font; a glyph no font has is drawn exactly like
# U+E000 (private use: the missing-glyph box), which is how colour emoji looked here.
GLYPHS_JS = """({symbols, font}) => {
  const canvas = document.createElement('canvas');
  canvas.width = 48;
  canvas.height = 48;
  const ctx = canvas.getContext('2d');
  const draw = (ch) => {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = `32px ${font}`;
    ctx.fillText(ch, 4, 38);
    return Array.from(ctx.getImageData(0, 0, 48, 48).data).join(',');
  };
  const missing = draw('\\uE000');
  return Object.fromEntries(symbols.map((s) => [s, draw(s) !== missing]));
}"""


@pytest.fixture()
def signed_frontend(
    token_backend: tuple[ServerProcess, dict[str, Any]], tmp_path: Path
) -> Iterator[ServerProcess]:
    server = start_frontend(token_backend[0].url, tmp_path / "frontend")
    yield server
    server.stop()


def sign_in(page: Page, token: str) -> None:
    field = page.get_by_label("API token")
    field.fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    settle(page)


def open_page_url(page: Page, url: str, seeded: dict[str, Any]) -> None:
    """A page's own URL while signed out: Streamlit knows no such page and says so."""
    page.goto(url)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Page not found")
    dialog.get_by_role("button", name="Close").click()
    expect_sign_in_only(page, seeded)


def expect_sign_in_only(page: Page, seeded: dict[str, Any]) -> None:
    """The sign-in form, and nothing from the backend: no page list, dataset or model."""
    expect(page.locator("h1", has_text="Sign in").first).to_be_visible()
    settle(page)
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(0)
    body = page.locator("body").inner_text()
    for secret in (seeded["dataset"]["name"], seeded["dataset"]["id"], seeded["model_id"]):
        assert secret not in body


def test_sign_in_roles_and_sign_out_in_chromium(
    signed_frontend: ServerProcess,
    token_backend: tuple[ServerProcess, dict[str, Any]],
    browser: Browser,
    tmp_path: Path,
) -> None:
    backend, seeded = token_backend
    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nscreenshots: {shots}")
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)

    # Sign-in required: the app's root and a page's URL show only the form.
    page.goto(signed_frontend.url)
    expect_sign_in_only(page, seeded)
    open_page_url(page, f"{signed_frontend.url}/models", seeded)
    page.screenshot(path=shots / "1-sign-in.png", full_page=True)

    # A wrong token is refused, with a message that says so.
    sign_in(page, "this-token-is-not-known-here")
    expect(page.get_by_text("does not know this token", exact=False)).to_be_visible()
    expect_sign_in_only(page, seeded)
    page.screenshot(path=shots / "2-refused.png", full_page=True)

    # A viewer reads, but every editor action is disabled or absent, with the reason.
    sign_in(page, TOKENS["viewer"])
    expect(page.locator("h1", has_text="Data").first).to_be_visible()
    expect(page.get_by_text("Signed in as viewer")).to_be_visible()
    go_to(page, "Models")
    settle(page)
    for label in ("Load", "Remove", "Prepare download", "Remove all models…"):
        expect(page.get_by_role("button", name=label, exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Promote", exact=True)).to_be_disabled()
    expect(page.get_by_text("Needs the editor role", exact=False).first).to_be_visible()
    go_to(page, "Train")
    settle(page)
    expect(page.get_by_role("button", name="Train", exact=True)).to_have_count(0)
    expect(page.get_by_text("Training: Needs the editor role", exact=False)).to_be_visible()
    no_exception(page)
    page.screenshot(path=shots / "3-viewer-train.png", full_page=True)

    # Sign-out forgets the token: back to the form, and pages are closed again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You signed out.")).to_be_visible()
    expect_sign_in_only(page, seeded)
    open_page_url(page, f"{signed_frontend.url}/models", seeded)

    # An editor trains a model.
    sign_in(page, TOKENS["editor"])
    expect(page.get_by_text("Signed in as editor")).to_be_visible()
    go_to(page, "Train")
    settle(page)
    page.get_by_label("Model name").fill("signed-in-e2e")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Training started", exact=False)).to_be_visible()
    go_to(page, "Tasks")
    expect(page.get_by_text("No task is running.")).to_be_visible(timeout=90_000)
    settle(page)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(1)
    no_exception(page)
    page.screenshot(path=shots / "4-editor-tasks.png", full_page=True)
    headers = {"Authorization": f"Bearer {TOKENS['viewer']}"}
    models = httpx.get(f"{backend.url}/api/v1/models/", headers=headers, timeout=30).json()
    assert [m["status"] for m in models if m["name"] == "signed-in-e2e"] == ["trained"]

    # Tasks: the status symbols are real glyphs in this browser's fonts, not empty boxes.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    drawn = page.evaluate(GLYPHS_JS, {"symbols": list(STATUS_SYMBOLS.values()), "font": font})
    assert all(drawn.values()), drawn

    # Predict: the model trained on a dataset that names its labels says "1 · toxic" and bars
    # the toxic score.
    go_to(page, "Predict")
    choose_option(page, "Model", "signed-in-e2e")
    page.get_by_role("button", name="Load it").click()
    expect(page.get_by_role("button", name="Load it")).to_have_count(0)
    settle(page)
    texts = page.get_by_label("One text per line")
    texts.fill("thank you for the help\nyou are a stupid idiot")
    texts.press("Control+Enter")
    settle(page)
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    settle(page)
    # st.dataframe draws on a canvas; the summary line above it is text.
    summary = re.compile(r"^(0 · not toxic|1 · toxic): [12] texts?")
    expect(page.get_by_text(summary).first).to_be_visible()
    expect(page.get_by_role("combobox", name="Prediction")).to_have_value(
        re.compile(r"→ (0 · not toxic|1 · toxic)$")
    )
    no_exception(page)
    page.screenshot(path=shots / "5-editor-predict.png", full_page=True)

    # The token went nowhere but the session: not in the URL, cookies, storage or logs.
    tokens = [TOKENS["viewer"], TOKENS["editor"], "this-token-is-not-known-here"]
    storage = page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    visible = [page.url, storage, *(f"{c['name']}={c['value']}" for c in context.cookies())]
    logs = [path.read_text(errors="replace") for path in tmp_path.rglob("*.log*")]
    assert logs, "the frontend writes logs"
    for token in tokens:
        assert not any(token in text for text in visible + logs), token
    context.close()
