"""Databases for test servers: a SQLite file (the default) or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ADMIN_URL_VAR = "TEST_POSTGRES_ADMIN_URL"


def postgres_admin_url() -> str:
    url = os.environ.get(ADMIN_URL_VAR)
    if not url:
        raise RuntimeError(
            f"{ADMIN_URL_VAR} is not set: the PostgreSQL half of the suite needs a server. "
            "Run the tests with scripts/test.sh, which starts one "
            "(scripts/start-test-postgres.sh prints the URL)."
        )
    return url


def fresh_postgres_database() -> str:
    """Create an empty database and return its SQLAlchemy URL."""
    admin = make_url(postgres_admin_url())
    name = f"toxiclf_test_{secrets.token_hex(4)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)
