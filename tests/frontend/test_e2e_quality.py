"""The quality views in chromium: the threshold slider and its Save (Models), word highlights
(Predict) and the error analysis with its filters and CSV (Errors)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.backend.api_steps import load_ok, train, upload_ok
from tests.frontend.test_e2e_browser import (  # noqa: F401 (fixtures)
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


def settled_value(page: Page, slider: Locator) -> str:
    """The slider's shown value once it has stopped changing (React renders key presses
    a moment after Playwright sends them)."""
    value = slider.get_attribute("aria-valuetext") or ""
    for _ in range(50):
        page.wait_for_timeout(200)
        again = slider.get_attribute("aria-valuetext") or ""
        if again == value:
            break
        value = again
    assert value, "the slider's thumb names its value"
    return value


@pytest.mark.timeout(900)  # a backend with default models, a fit, three pages in chromium
def test_slider_highlights_and_errors(
    frontend_server: ServerProcess,  # noqa: F811
    backend: ServerProcess,
    browser: Browser,  # noqa: F811
    small_csv: Path,
    tmp_path: Path,
) -> None:
    with httpx.Client(base_url=backend.url, timeout=60) as api:
        dataset = upload_ok(api, small_csv, name="quality-e2e")
        model = train(
            api,
            dataset["id"],
            "quality-e2e",
            model_type="logreg",
            vectorizer={"ngram_range": [1, 2], "min_df": 2},
        )
        load_ok(api, model["id"])
    page = open_app(browser, frontend_server.url, 2400)

    # Models: the slider moves along the held-out PR curve; Save stores the chosen cut.
    go_to(page, "Models")
    choose_option(page, "Model", model["id"])
    # The page first showed another model (a default one) with a slider of its own: wait for
    # this model's slider (its key names the model) so the keys below move the right one.
    keyed = re.sub(r"[^a-zA-Z0-9_-]", "-", f"threshold_slider_{model['id']}")
    slider = page.locator(f".st-key-{keyed}").get_by_role("slider")
    expect(slider).to_be_visible()
    settle(page)
    precision = page.locator('[data-testid="stMetric"]', has_text="Precision")
    flagged = page.locator('[data-testid="stMetric"]', has_text="Flagged per 1,000")
    expect(flagged).to_contain_text("Flagged per 1,000 texts")
    before = flagged.inner_text()
    threshold = page.locator('[data-testid="stMetric"]', has_text="Threshold").first
    slider.focus()
    for _ in range(15):
        slider.press("ArrowLeft")  # stricter: fewer texts flagged
    # The slider sends its value after a short debounce, and slow key presses can split the
    # 15 steps over several reruns: wait until the page shows the slider's final value (its
    # thumb carries it as aria-valuetext), not merely the first rerun's.
    final = settled_value(page, slider)
    expect(threshold).to_contain_text(final)
    settle(page)
    expect(threshold).to_contain_text(final)
    expect(flagged).not_to_have_text(before)
    after = float(flagged.inner_text().split()[-1].replace(",", ""))
    assert after < float(before.split()[-1].replace(",", "")), (before, after)
    expect(precision).to_be_visible()
    expect(page.locator(".js-plotly-plot .gtitle", has_text="Held-out precision-recall"))
    chosen = float(final)
    page.get_by_role("button", name="Save threshold").click()
    expect(page.get_by_text(f"Threshold {final} saved; predictions use it now")).to_be_visible()
    no_exception(page)
    page.screenshot(path=tmp_path / "models-threshold.png", full_page=True)
    with httpx.Client(base_url=backend.url, timeout=60) as api:
        stored = api.get(f"/api/v1/models/{model['id']}/threshold").json()["threshold"]
    assert abs(stored - chosen) < 1e-3, (stored, chosen)

    # Predict: every text's words are tinted, red toward toxic and green away from it.
    go_to(page, "Predict")
    choose_option(page, "Model", model["id"])
    texts = page.get_by_label("One text per line")
    texts.fill("have a wonderful day\nyou are a stupid idiot")
    texts.press("Control+Enter")
    settle(page)
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(page.locator(".tw-highlight")).to_have_count(2)
    words = page.locator(".tw-highlight .tw-word")
    expect(words.first).to_be_visible()
    weights = {
        words.nth(i).inner_text().lower(): float(words.nth(i).get_attribute("data-weight") or 0)
        for i in range(words.count())
    }
    assert weights.get("stupid", 0) > 0 or weights.get("idiot", 0) > 0, weights
    styles = "".join(words.nth(i).get_attribute("style") or "" for i in range(words.count()))
    assert "rgba(220,38,38" in styles.replace(" ", "")  # red toward toxic
    no_exception(page)
    page.screenshot(path=tmp_path / "predict-highlights.png", full_page=True)

    # Errors: the model's mistakes on its dataset, filterable, downloadable.
    go_to(page, "Errors")
    choose_option(page, "Model", model["id"])
    choose_option(page, "Labelled dataset", "quality-e2e")
    expect(page.get_by_text("The model was trained on this dataset", exact=False)).to_be_visible()
    page.get_by_role("button", name="Find errors").click()
    heading = page.locator("h3", has_text="misclassified texts")
    expect(heading).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    total = int(heading.inner_text().split()[0].replace(",", ""))
    assert total > 0
    shown = page.get_by_text("shown, most confident mistakes first", exact=False)
    expect(shown).to_contain_text(f"{total:,} shown")
    box = page.locator('[data-testid="stMultiSelect"]', has_text="True label")
    box.click()
    page.locator('[role="option"]', has_text="1").first.click()
    page.keyboard.press("Escape")
    settle(page)
    page.screenshot(path=tmp_path / "errors-filtered.png", full_page=True)
    no_exception(page)
    expect(shown).not_to_contain_text(f"{total:,} shown")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download errors CSV").click()
    csv = Path(download_info.value.path()).read_text()
    assert csv.splitlines()[0] == "text,true,predicted,confidence,why"
    assert all(line.count(",") >= 4 for line in csv.splitlines()[1:3])
    no_exception(page)
    page.screenshot(path=tmp_path / "errors.png", full_page=True)
