"""Logging to stdout and to a rotating `LOG_DIR/backend.log`."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


def configure_logging(log_dir: Path, level: str, access_log: bool = True) -> None:
    logging.getLogger("uvicorn.access").disabled = not access_log
    root = logging.getLogger()
    if getattr(root, "_toxiclf_configured", False):
        return
    formatter = logging.Formatter(FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            RotatingFileHandler(
                log_dir / "backend.log", maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
            )
        )
    except OSError as exc:
        print(f"cannot write logs under {log_dir}: {exc}; logging to stdout only", file=sys.stderr)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    root._toxiclf_configured = True  # type: ignore[attr-defined]
