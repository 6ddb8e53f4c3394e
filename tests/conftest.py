"""Shared fixtures: a real backend server on a free port with its own temp DATA_DIR."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import SHARED_DIR, ServerProcess, copy_data_dir, start_backend

if (SHARED_DIR / "nltk_data").is_dir():
    os.environ.setdefault("NLTK_DATA", str(SHARED_DIR / "nltk_data"))

TOXIC_EN = SHARED_DIR / "data" / "toxic_en.csv"
TOXIC_RU = SHARED_DIR / "data" / "toxic_ru.csv"
CONTAINER_TESTS = Path(__file__).parent / "containers"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Container tests last: scripts/test.sh builds their images while the others run."""
    items.sort(key=lambda item: item.path.is_relative_to(CONTAINER_TESTS))


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


@pytest.fixture(scope="session")
def seed_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stopped server's DATA_DIR with the default models trained; copies start fast."""
    data_dir = tmp_path_factory.mktemp("seed")
    start_backend(data_dir).stop()
    return data_dir


StartServer = Callable[..., ServerProcess]


@pytest.fixture()
def start_server(seed_data_dir: Path, tmp_path: Path) -> Iterator[StartServer]:
    """Start dedicated servers (a copy of `seed_data_dir` unless `data_dir` is given);
    every one of them is stopped at the end of the test."""
    started: list[ServerProcess] = []

    def start(data_dir: Path | None = None, *, workers: int = 1, **env: str) -> ServerProcess:
        if data_dir is None:
            data_dir = tmp_path / f"data-{len(started)}"
            copy_data_dir(seed_data_dir, data_dir)
        server = start_backend(data_dir, workers=workers, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def small_dataset(backend: ServerProcess, small_csv: Path) -> dict[str, object]:
    """`small_csv` uploaded to the shared backend: the DatasetInfo."""
    with small_csv.open("rb") as handle:
        response = httpx.post(
            f"{backend.url}/api/v1/datasets",
            timeout=60,
            files={"file": ("small.csv", handle, "text/csv")},
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture(scope="session")
def full_dataset(backend: ServerProcess) -> dict[str, object]:
    """The whole toxic_en.csv uploaded to the shared backend (for slow fits)."""
    with TOXIC_EN.open("rb") as handle:
        response = httpx.post(
            f"{backend.url}/api/v1/datasets",
            timeout=60,
            files={"file": ("toxic_en.csv", handle, "text/csv")},
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture(scope="session")
def seed_format_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 rows in the seed format: an unnamed index column, then `toxic`, then `comment_text`."""
    import pandas as pd

    frame = pd.read_csv(TOXIC_EN).head(300)
    seed = pd.DataFrame({"toxic": frame["label"], "comment_text": frame["text"]})
    path = tmp_path_factory.mktemp("csv") / "seed_format.csv"
    seed.to_csv(path, index=True)
    return path


@pytest.fixture(scope="session")
def ru_cp1251_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 rows of toxic_ru.csv (150 per class) re-encoded to cp1251."""
    import pandas as pd

    frame = pd.read_csv(TOXIC_RU, encoding="utf-8")

    def encodable(text: str) -> bool:
        try:
            text.encode("cp1251")
        except UnicodeEncodeError:
            return False
        return bool(text.strip())

    frame = frame[frame["text"].map(encodable)]
    sample = pd.concat([frame[frame.label == 0].head(150), frame[frame.label == 1].head(150)])
    path = tmp_path_factory.mktemp("csv") / "toxic_ru_cp1251.csv"
    sample.sample(frac=1, random_state=0).to_csv(path, index=False, encoding="cp1251")
    return path
