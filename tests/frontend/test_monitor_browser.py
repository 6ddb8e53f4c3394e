"""The feedback loop in chromium: mark a prediction wrong on the Predict page and on the
Prediction log page, then the Monitor page shows traffic, drift and the corrections, and its
retrain button builds the feedback dataset and asks for the gated retrain."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from tests.frontend.test_e2e_browser import (  # noqa: F401 - fixtures
    WAIT_MS,
    browser,
    choose_option,
    frontend_server,
    go_to,
    no_exception,
    open_app,
    settle,
)
from tests.servers import ServerProcess

MODEL = "default-logreg"


def test_feedback_and_monitor_in_chromium(
    frontend_server: ServerProcess,  # noqa: F811
    backend: ServerProcess,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = open_app(browser, frontend_server.url, 2600)

    # Predict: classify two texts, then correct the second one.
    go_to(page, "Predict")
    choose_option(page, "Model", MODEL)
    texts = page.get_by_label("One text per line")
    texts.fill("have a wonderful monitored day\nyou are a monitored stupid idiot")
    texts.press("Control+Enter")
    settle(page)
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(page.get_by_role("button", name="Send correction")).to_be_visible()
    choose_option(page, "Prediction", "you are a monitored stupid idiot")
    choose_option(page, "Right label", "0")
    page.get_by_role("button", name="Send correction").click()
    expect(page.get_by_text("Correction saved", exact=False)).to_be_visible()
    no_exception(page)
    page.screenshot(path=tmp_path / "1-predict-feedback.png", full_page=True)

    # Prediction log: the log keeps no texts here, so the moderator types it.
    go_to(page, "Prediction log")
    choose_option(page, "Model", MODEL)
    expect(page.get_by_role("button", name="Send correction")).to_be_visible()
    choose_option(page, "Right label", "1")
    page.get_by_label("The predicted text", exact=False).fill("have a wonderful monitored day")
    page.get_by_label("The predicted text", exact=False).press("Enter")
    settle(page)
    page.get_by_role("button", name="Send correction").click()
    settle(page)
    no_exception(page)

    # What the backend holds now, from both pages.
    wanted = {("you are a monitored stupid idiot", 0), ("have a wonderful monitored day", 1)}
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=backend.url, timeout=30) as client:
        while True:
            mine = client.get("/api/v1/feedback/", params={"model_id": MODEL}).json()
            seen = client.get(f"/api/v1/models/{MODEL}/drift").json()["n"]
            corrected = {(f["text"], f["label"]) for f in mine} >= wanted
            if (corrected and seen >= 2) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert {(f["text"], f["label"]) for f in mine} >= wanted, mine
    assert seen >= 2, "the two predictions never reached the drift report"

    # Monitor: badge, traffic, histogram over the reference, PSI over time, feedback.
    go_to(page, "Monitor")
    choose_option(page, "Model", MODEL)
    expect(page.get_by_text("Drift:", exact=False).first).to_be_visible()
    for title in ("Predictions per hour", "live over reference", "PSI per feature over time"):
        expect(page.locator(".js-plotly-plot .gtitle", has_text=title).first).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]', has_text="Corrections")).to_be_visible()
    page.get_by_role("button", name="Build feedback dataset and retrain").click()
    # The default model has no @production alias: the dataset is built, the retrain refused.
    expect(
        page.get_by_text("default-logreg@production does not exist", exact=False)
    ).to_be_visible()
    no_exception(page)
    page.screenshot(path=tmp_path / "2-monitor.png", full_page=True)
    with httpx.Client(base_url=backend.url, timeout=30) as client:
        names = [d["name"] for d in client.get("/api/v1/datasets").json()]
    assert any(name.startswith(f"feedback {MODEL}") for name in names)
