"""Logging to stdout and to one rotating file under `LOG_DIR`, for the backend and the frontend.

Both images copy this package beside their own (backend/Dockerfile, frontend/Dockerfile), so
the two processes keep one rotation rule and one line format; the frontend still imports
nothing from `backend/`.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

# [pid] tells apart the lines of `uvicorn --workers N`, which share one file.
FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
# Per file: at most (1 + BACKUP_COUNT) × MAX_BYTES, 60 MiB, on the log volume.
MAX_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5

_STREAM_MARK = "toxiclf-stdout"
_FILE_MARK = "toxiclf-file"


def configure_logging(log_file: Path, level: str, logger_name: str = "") -> logging.Logger:
    """Attach a stdout handler and a rotating handler on `log_file` to a logger; return it.

    `logger_name` "" is the root logger (the backend: every library's lines go to the file);
    a named logger keeps its lines from the root, whose handlers belong to the host program
    (Streamlit prints them again otherwise). Idempotent, because Streamlit reruns the app
    script on every interaction: the stdout handler is added once, and the file handler is
    replaced only when `log_file` changed (tests, or an operator editing LOG_DIR).
    """
    logger = logging.getLogger(logger_name)
    logger.setLevel(level)
    if logger_name:
        logger.propagate = False
    formatter = logging.Formatter(FORMAT)
    handlers = {handler.get_name(): handler for handler in logger.handlers}
    if _STREAM_MARK not in handlers:
        stream_handler = logging.StreamHandler(sys.stdout)
        stream_handler.set_name(_STREAM_MARK)
        stream_handler.setFormatter(formatter)
        logger.addHandler(stream_handler)

    log_path = log_file.resolve()
    current = handlers.get(_FILE_MARK)
    if isinstance(current, RotatingFileHandler) and Path(current.baseFilename) == log_path:
        return logger
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(
            log_path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as exc:
        # A read-only LOG_DIR must not take the service down; stdout still has everything.
        logger.warning("file logging disabled, cannot write to %s: %s", log_path, exc)
        return logger
    if current is not None:
        logger.removeHandler(current)
        current.close()
    file_handler.set_name(_FILE_MARK)
    file_handler.setFormatter(formatter)
    logger.addHandler(file_handler)
    return logger
