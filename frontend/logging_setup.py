"""Logging to stdout and to a rotating `LOG_DIR/frontend.log`."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from frontend.settings import FrontendSettings

LOGGER_NAME = "frontend"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STREAM_MARK = "frontend-stdout"
_FILE_MARK = "frontend-file"


def configure_logging(settings: FrontendSettings) -> logging.Logger:
    """Attach the stdout and file handlers, once per process and once per LOG_DIR.

    Streamlit reruns app.py on every interaction, so this must be idempotent; a changed LOG_DIR
    (tests, or an operator editing .env) swaps the file handler instead of adding another.
    """
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(settings.log_level)
    # Streamlit configures the root logger too; keep our lines from printing twice.
    logger.propagate = False
    formatter = logging.Formatter(_FORMAT)
    handlers = {handler.get_name(): handler for handler in logger.handlers}
    if _STREAM_MARK not in handlers:
        stream_handler = logging.StreamHandler(sys.stdout)
        stream_handler.set_name(_STREAM_MARK)
        stream_handler.setFormatter(formatter)
        logger.addHandler(stream_handler)

    log_path = (settings.log_dir / "frontend.log").resolve()
    current = handlers.get(_FILE_MARK)
    if isinstance(current, RotatingFileHandler) and Path(current.baseFilename) == log_path:
        return logger
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(
            log_path, maxBytes=5 * 1024 * 1024, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        # A read-only LOG_DIR must not take the UI down; stdout still has everything.
        logger.warning("file logging disabled, cannot write to %s: %s", log_path, exc)
        return logger
    if current is not None:
        logger.removeHandler(current)
        current.close()
    file_handler.set_name(_FILE_MARK)
    file_handler.setFormatter(formatter)
    logger.addHandler(file_handler)
    return logger
