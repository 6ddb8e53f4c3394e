"""Shared fixtures: a real backend server on a free port with its own temp DATA_DIR."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import SHARED_DIR, ServerProcess, start_backend

if (SHARED_DIR / "nltk_data").is_dir():
    os.environ.setdefault("NLTK_DATA", str(SHARED_DIR / "nltk_data"))

TOXIC_EN = SHARED_DIR / "data" / "toxic_en.csv"
TOXIC_RU = SHARED_DIR / "data" / "toxic_ru.csv"


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One backend shared by the tests that only add state of their own."""
    server = start_backend(tmp_path_factory.mktemp("backend"))
    yield server
    server.stop()


@pytest.fixture()
def client(backend: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=backend.url, timeout=60) as http:
        yield http


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 rows of toxic_en.csv, both classes present."""
    import pandas as pd

    frame = pd.read_csv(TOXIC_EN)
    sample = pd.concat(
        [frame[frame.label == 0].head(700), frame[frame.label == 1].head(1300)]
    ).sample(frac=1, random_state=0)
    path = tmp_path_factory.mktemp("csv") / "small.csv"
    sample.to_csv(path, index=False)
    return path
