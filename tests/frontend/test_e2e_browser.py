"""End to end in a real browser: Debian's chromium driven by Playwright through the whole path
upload the CSV → EDA renders charts → train a model → task succeeds → predict → compare (ROC).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.servers import ServerProcess, start_frontend

CHROMIUM = "/usr/bin/chromium"  # installed by .ci/run with apt-get
# Generous: CI machines are often shared, and the first EDA run imports NLTK and tags POS.
WAIT_MS = 120_000


@pytest.fixture()
def frontend_server(backend: ServerProcess, tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_frontend(backend.url, tmp_path / "frontend")
    yield server
    server.stop()


@pytest.fixture()
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


def open_app(browser: Browser, url: str, height: int) -> Page:
    """A new page of the app at `url`, waited on until the first page (Data) shows."""
    page = browser.new_page(viewport={"width": 1400, "height": height})
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    page.goto(url)
    expect(page.locator("h1", has_text="Data").first).to_be_visible()
    return page


def go_to(page: Page, title: str) -> None:
    """Follow the sidebar navigation link (keeps the session, unlike a new URL)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    expect(page.locator("h1", has_text=title).first).to_be_visible(timeout=WAIT_MS)


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=WAIT_MS)


def no_exception(page: Page) -> None:
    """No uncaught exception box on the page."""
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def choose_option(page: Page, label: str, option_text: str) -> None:
    """Pick an option of the selectbox labelled `label`."""
    box = page.locator('[data-testid="stSelectbox"]', has_text=label).first
    box.click()
    page.locator('[role="option"]', has_text=option_text).first.click()
    settle(page)


def test_whole_path_in_chromium(
    frontend_server: ServerProcess,
    backend: ServerProcess,
    browser: Browser,
    small_csv: Path,
    tmp_path: Path,
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nscreenshots: {shots}")
    page = open_app(browser, frontend_server.url, 2200)

    # Data: upload → preview → create the backend dataset.
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        str(small_csv)
    )
    create = page.get_by_role("button", name="Create dataset on the server")
    expect(create).to_be_visible()
    # The preview is the server's reading of the file, not the page's own.
    expect(page.get_by_text("read by the server as utf-8 with delimiter ','")).to_be_visible()
    settle(page)
    page.get_by_label("Dataset name").fill("e2e-dataset")
    create.click()
    expect(page.get_by_text("Dataset e2e-dataset created", exact=False)).to_be_visible()
    no_exception(page)
    page.screenshot(path=shots / "1-data.png", full_page=True)

    # EDA: every chart renders (six plotly charts and two word clouds).
    go_to(page, "EDA")
    expect(page.get_by_text("Page computed in", exact=False)).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(6)
    expect(page.locator('[data-testid="stImage"]')).to_have_count(2)
    no_exception(page)
    page.screenshot(path=shots / "2-eda.png", full_page=True)

    # Train: the dataset just created is preselected; submit a fit.
    go_to(page, "Train")
    dataset_box = page.get_by_role("combobox", name="Dataset")
    expect(dataset_box).to_have_value(re.compile("^e2e-dataset"))
    page.get_by_label("Model name").fill("e2e-model")
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Training started", exact=False)).to_be_visible()
    no_exception(page)
    page.screenshot(path=shots / "3-train.png", full_page=True)

    # Tasks: the page refreshes itself until the fit has ended.
    go_to(page, "Tasks")
    expect(page.get_by_text("No task is running.")).to_be_visible(timeout=90_000)
    no_exception(page)
    page.screenshot(path=shots / "4-tasks.png", full_page=True)
    with httpx.Client(base_url=backend.url, timeout=30) as client:
        tasks = client.get("/api/v1/tasks/").raise_for_status().json()
        models = client.get("/api/v1/models/").raise_for_status().json()
    model = next(m for m in models if m["name"] == "e2e-model")
    task = next(t for t in tasks if t["model_id"] == model["id"])
    assert task["status"] == "succeeded", task

    # Predict: load the new model, classify two typed texts.
    go_to(page, "Predict")
    choose_option(page, "Model", model["id"])
    page.get_by_role("button", name="Load it").click()
    expect(page.get_by_role("button", name="Load it")).to_have_count(0)
    settle(page)
    texts = page.get_by_label("One text per line")
    texts.fill("have a wonderful day\nyou are a stupid idiot")
    texts.press("Control+Enter")
    settle(page)
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    no_exception(page)
    page.screenshot(path=shots / "5-predict.png", full_page=True)

    # Compare: the newest models (ours included) on the uploaded dataset → ROC chart.
    go_to(page, "Compare")
    expect(page.locator('[data-testid="stMultiSelect"]', has_text="e2e-model")).to_be_visible()
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator(".js-plotly-plot .gtitle", has_text="ROC curves")).to_be_visible()
    legend = page.locator(".js-plotly-plot .legendtext", has_text="AUC = ")
    expect(legend.first).to_be_visible()
    # Compare scores a model on its own held-out split when it was trained on the dataset.
    assert any(
        re.match(r"e2e-model v1( \(held-out\))? \(AUC = [01]\.", text)
        for text in legend.all_text_contents()
    ), legend.all_text_contents()
    no_exception(page)
    page.screenshot(path=shots / "6-compare.png", full_page=True)
    assert sorted(path.name for path in shots.iterdir()) == [
        "1-data.png",
        "2-eda.png",
        "3-train.png",
        "4-tasks.png",
        "5-predict.png",
        "6-compare.png",
    ]
