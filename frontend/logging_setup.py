"""Logging to stdout and to a rotating `LOG_DIR/frontend.log`."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler

from frontend.settings import FrontendSettings

LOGGER_NAME = "frontend"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_MARK = "frontend-handler"


def configure_logging(settings: FrontendSettings) -> logging.Logger:
    """Attach the stdout and file handlers once; Streamlit reruns app.py on every interaction."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(settings.log_level)
    if any(getattr(handler, "name", "") == _HANDLER_MARK for handler in logger.handlers):
        return logger
    formatter = logging.Formatter(_FORMAT)
    stream_handler = logging.StreamHandler(sys.stdout)
    stream_handler.set_name(_HANDLER_MARK)
    stream_handler.setFormatter(formatter)
    logger.addHandler(stream_handler)
    try:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(
            settings.log_dir / "frontend.log",
            maxBytes=5 * 1024 * 1024,
            backupCount=3,
            encoding="utf-8",
        )
    except OSError as exc:
        # A read-only LOG_DIR must not take the UI down; stdout still has everything.
        logger.warning("file logging disabled, cannot write to %s: %s", settings.log_dir, exc)
    else:
        file_handler.set_name(_HANDLER_MARK + "-file")
        file_handler.setFormatter(formatter)
        logger.addHandler(file_handler)
    # Streamlit configures the root logger too; keep our lines from printing twice.
    logger.propagate = False
    return logger
