"""toxiclf_logging: the one logging setup of the backend and the frontend."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

import toxiclf_logging
from toxiclf_logging import configure_logging


@pytest.fixture()
def logger_name() -> Iterator[str]:
    """A logger of this test's own, its handlers closed afterwards."""
    name = "toxiclf-test-logging"
    yield name
    logger = logging.getLogger(name)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def file_handlers(logger: logging.Logger) -> list[RotatingFileHandler]:
    return [h for h in logger.handlers if isinstance(h, RotatingFileHandler)]


def test_lines_reach_the_file_in_the_shared_format(tmp_path: Path, logger_name: str) -> None:
    logger = configure_logging(tmp_path / "logs" / "frontend.log", "INFO", logger_name)
    logger.getChild("client").info("GET /health -> 200")
    logger.debug("below the level")
    for handler in logger.handlers:
        handler.flush()
    text = (tmp_path / "logs" / "frontend.log").read_text()
    assert "INFO [" in text and f"] {logger_name}.client: GET /health -> 200" in text
    assert "below the level" not in text
    # A named logger keeps its lines from the root's handlers (Streamlit's).
    assert logger.propagate is False


def test_one_rotation_rule(tmp_path: Path, logger_name: str) -> None:
    logger = configure_logging(tmp_path / "backend.log", "INFO", logger_name)
    (handler,) = file_handlers(logger)
    assert (handler.maxBytes, handler.backupCount) == (
        toxiclf_logging.MAX_BYTES,
        toxiclf_logging.BACKUP_COUNT,
    )


def test_repeated_calls_add_nothing_and_a_new_dir_swaps_the_file(
    tmp_path: Path, logger_name: str
) -> None:
    first = tmp_path / "a" / "frontend.log"
    for _ in range(3):  # Streamlit reruns the script on every interaction
        logger = configure_logging(first, "INFO", logger_name)
    assert len(logger.handlers) == 2
    second = tmp_path / "b" / "frontend.log"
    logger = configure_logging(second, "INFO", logger_name)
    assert len(logger.handlers) == 2
    (handler,) = file_handlers(logger)
    assert Path(handler.baseFilename) == second.resolve()


def test_unwritable_dir_keeps_stdout(tmp_path: Path, logger_name: str) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the log directory should be")
    logger = configure_logging(blocker / "backend.log", "INFO", logger_name)
    assert not file_handlers(logger) and len(logger.handlers) == 1
