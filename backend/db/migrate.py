"""Bring the database schema to the newest alembic revision, once, whatever runs at start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from backend.db.session import Database
from backend.files import file_lock

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_LOCK_KEY = 7_236_011  # any constant: serializes migrations of servers on several hosts


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_to_head(db: Database, lock_dir: Path) -> None:
    config = alembic_config()
    with file_lock(lock_dir / ".migrate.lock"), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
