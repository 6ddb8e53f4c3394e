"""The Tasks page's rows: each task with its model's name and version and a status that reads
in any font (headless Chromium has no colour-emoji font and drew the old icons as boxes)."""

from __future__ import annotations

from typing import Any

import pandas as pd

# Text-presentation symbols found in common fonts (DejaVu, Liberation), never emoji.
STATUS_SYMBOLS = {
    "queued": "○",
    "running": "►",
    "succeeded": "✓",
    "failed": "✗",
    "cancelled": "⊘",
}


def status_text(status: str) -> str:
    """`✓ succeeded`: a plain symbol and the word, so it also reads without the symbol."""
    symbol = STATUS_SYMBOLS.get(status)
    return f"{symbol} {status}" if symbol else status


def model_titles(models: list[dict[str, Any]]) -> dict[str, str]:
    """`{model_id: "name v<version>"}` for every listed model."""
    return {
        model["id"]: f"{model.get('name') or model['id']} v{model.get('version', '?')}"
        for model in models
    }


def model_title(model_id: str | None, titles: dict[str, str]) -> str:
    """`name v<version>`, or the id of a model that is gone (removed after its fit)."""
    if model_id is None:
        return ""
    return titles.get(model_id, model_id)


def tasks_frame(tasks: list[dict[str, Any]], titles: dict[str, str]) -> pd.DataFrame:
    """One row per task; `status` reads `✓ succeeded`, `model` reads `name v<version>`."""
    table = pd.DataFrame(tasks)
    table["status"] = table["status"].map(status_text)
    table.insert(0, "model", table["model_id"].map(lambda model_id: model_title(model_id, titles)))
    return table
