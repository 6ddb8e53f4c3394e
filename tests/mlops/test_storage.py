"""Storage on both databases: migrations build the ORM's schema and are idempotent; a restarted
PostgreSQL-backed server keeps models, aliases, tasks and the prediction log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from backend.db.migrate import alembic_config, upgrade_to_head
from backend.db.models import Base
from backend.db.session import Database
from tests.backend.api_steps import (
    MODELS,
    SLOW_FIT,
    fit_ok,
    get_model,
    get_task,
    load_ok,
    train,
    wait_fitting,
    wait_task,
)
from tests.conftest import TOXIC_EN
from tests.databases import fresh_postgres_database
from tests.mlops.conftest import poll, role_client, start_auth_server, upload_dataset


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        fresh_postgres_database()
        if request.param == "postgresql"
        else f"sqlite:///{tmp_path / 'app.db'}"
    )
    db = Database(url)
    yield db
    db.dispose()


def test_migrations_build_the_orm_schema_and_are_idempotent(
    database: Database, tmp_path: Path
) -> None:
    upgrade_to_head(database, tmp_path)
    upgrade_to_head(database, tmp_path)  # a second start finds nothing to do

    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with database.engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head]
    inspector = inspect(database.engine)
    tables = set(inspector.get_table_names())
    assert set(Base.metadata.tables) <= tables, sorted(set(Base.metadata.tables) - tables)
    for name, table in Base.metadata.tables.items():
        columns = {c["name"] for c in inspector.get_columns(name)}
        assert columns == {c.name for c in table.columns}, name
    # The schema is usable as the ORM describes it.
    with database.session() as session:
        session.execute(text("SELECT count(*) FROM prediction_log")).scalar_one()


def test_postgresql_server_restart_keeps_its_state(tmp_path: Path, small_csv: Path) -> None:
    data_dir = tmp_path / "data"
    database_url = fresh_postgres_database()
    first = start_auth_server(data_dir, DATABASE_URL=database_url)
    try:
        with role_client(first, "editor") as editor:
            dataset = upload_dataset(editor, small_csv)
            model = train(editor, dataset["id"], "kept-over-restart")
            load_ok(editor, model["id"])
            promoted = editor.post(f"{MODELS}/{model['id']}/promote", json={})
            assert promoted.status_code == 200, promoted.text
            texts = ["you are lovely", "you idiot"]
            before = editor.post(
                f"{MODELS}/predict",
                json={"model_id": "kept-over-restart@production", "texts": texts},
            )
            assert before.status_code == 200, before.text
            assert poll(
                lambda: editor.get("/api/v1/predictions", params={"model_id": model["id"]}).json()
            )
            # One fit running when the server goes down, one queued behind it (one worker).
            full = upload_dataset(editor, TOXIC_EN)
            running = fit_ok(editor, full["id"], "cut-by-restart", **SLOW_FIT)
            wait_fitting(editor, running["task_id"])
            queued = fit_ok(editor, dataset["id"], "queued-over-restart")
            assert get_task(editor, queued["task_id"])["status"] == "queued"
            fit_task = get_task(editor, model_task_id(editor, model["id"]))
    finally:
        first.stop()

    second = start_auth_server(data_dir, DATABASE_URL=database_url)
    try:
        with role_client(second, "editor") as editor:
            assert editor.get(f"/api/v1/datasets/{dataset['id']}").status_code == 200
            kept = get_model(editor, model["id"])
            assert kept["status"] == "trained" and kept["loaded"] is True
            assert kept["aliases"] == ["production"]
            assert kept["metrics"] == model["metrics"]
            after = editor.post(
                f"{MODELS}/predict",
                json={"model_id": "kept-over-restart@production", "texts": texts},
            )
            assert after.status_code == 200, after.text
            # The same predictions; each call has prediction ids of its own.
            assert after.json()["predictions"] == before.json()["predictions"]
            assert after.json()["model_id"] == before.json()["model_id"]
            assert get_task(editor, fit_task["id"]) == fit_task
            # The call before the restart and the one after (written by the log's thread).
            assert poll(
                lambda: (
                    len(editor.get("/api/v1/predictions", params={"model_id": model["id"]}).json())
                    == 2
                )
            )

            cut = get_task(editor, running["task_id"])
            assert cut["status"] == "failed", cut
            assert "restart" in (cut["error"] or "").lower(), cut
            assert get_model(editor, running["model_id"])["status"] == "failed"
            resumed = wait_task(editor, queued["task_id"])
            assert resumed["status"] == "succeeded", resumed
            assert get_model(editor, queued["model_id"])["status"] == "trained"
    finally:
        second.stop()


def model_task_id(client: Any, model_id: str) -> str:
    tasks = [t for t in client.get("/api/v1/tasks/").json() if t["model_id"] == model_id]
    assert len(tasks) == 1, tasks
    return str(tasks[0]["id"])
