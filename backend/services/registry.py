"""The model registry: versions per name, aliases, status and the durable loaded set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sklearn
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from backend.db.models import AliasRow, ModelRow
from backend.db.session import Database
from backend.errors import BadRequest, ModelNotFound
from backend.schemas.models import ModelInfo
from backend.services.ids import is_safe_id, new_id

# pg_advisory_xact_lock key that serializes claims on the loaded set across processes.
LOADED_SET_LOCK_KEY = 0x746F78_6C6F6164  # "tox" "load"


class ModelRegistry:
    def __init__(self, db: Database, on_serving_change: Callable[[], None] = lambda: None) -> None:
        self.db = db
        # Called after any change to what is served (loaded set, aliases, removals).
        self.on_serving_change = on_serving_change

    # --- reading --------------------------------------------------------------------

    def row(self, model_ref: str) -> ModelRow:
        """A model by id, or by `name@alias`."""
        if "\x00" in model_ref:  # PostgreSQL cannot even compare it; same answer on SQLite
            raise BadRequest("model_id must not contain NUL (\\x00) characters")
        name, sep, alias = model_ref.partition("@")
        with self.db.session() as session:
            if sep:
                model_id = session.scalar(
                    select(AliasRow.model_id).where(AliasRow.name == name, AliasRow.alias == alias)
                )
                if model_id is None:
                    raise ModelNotFound(model_ref)
            elif is_safe_id(model_ref):
                model_id = model_ref
            else:
                raise ModelNotFound(model_ref)
            found = session.get(ModelRow, model_id)
            if found is None:
                raise ModelNotFound(model_ref)
            return found

    def info(self, row: ModelRow) -> ModelInfo:
        with self.db.session() as session:
            aliases = session.scalars(
                select(AliasRow.alias).where(AliasRow.model_id == row.id).order_by(AliasRow.alias)
            ).all()
        return to_info(row, list(aliases))

    def get(self, model_ref: str) -> ModelInfo:
        return self.info(self.row(model_ref))

    def list(self) -> list[ModelInfo]:
        with self.db.session() as session:
            rows = session.scalars(
                select(ModelRow).order_by(ModelRow.created_at.desc(), ModelRow.id)
            ).all()
            aliases: dict[str, list[str]] = {}
            for alias in session.scalars(select(AliasRow).order_by(AliasRow.alias)):
                aliases.setdefault(alias.model_id, []).append(alias.alias)
        return [to_info(r, aliases.get(r.id, [])) for r in rows]

    def loaded_ids(self) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(select(ModelRow.id).where(ModelRow.loaded.is_(True))))

    def count_loaded(self) -> int:
        with self.db.session() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(ModelRow).where(ModelRow.loaded.is_(True))
                )
                or 0
            )

    def next_version(self, name: str) -> int:
        with self.db.session() as session:
            current = session.scalar(
                select(func.max(ModelRow.version)).where(ModelRow.name == name)
            )
        return int(current or 0) + 1

    # --- writing --------------------------------------------------------------------

    def add(self, row: ModelRow) -> ModelRow:
        with self.db.session() as session:
            session.add(row)
        if row.loaded:
            self.on_serving_change()
        return row

    def create(
        self, *, name: str, status: str, model_id: str | None = None, **columns: Any
    ) -> ModelRow:
        """Record a model as the next version of `name`: the one place a ModelRow is built.

        `columns` are ModelRow's other columns (model_type, params, vectorizer, …). A trained
        model's file is `<id>.skops`; a model in training gets its file name when its fit
        succeeds.
        """
        model_id = model_id or new_id("mdl")
        columns = {
            "loaded": False,
            "is_default": False,
            "metrics": {},
            "classes": [],
            "dataset_id": None,
            **columns,
        }
        columns.setdefault("artifact_path", f"{model_id}.skops" if status == "trained" else None)
        for _attempt in range(5):  # two models of one name at once race for the version
            try:
                return self.add(
                    ModelRow(
                        id=model_id,
                        name=name,
                        version=self.next_version(name),
                        status=status,
                        **columns,
                    )
                )
            except IntegrityError:
                continue
        raise BadRequest(f"could not allocate a version for {name!r}; try again")

    def update(self, model_id: str, **values: Any) -> None:
        with self.db.session() as session:
            session.execute(update(ModelRow).where(ModelRow.id == model_id).values(**values))

    def claim_loaded(self, model_id: str, limit: int) -> bool:
        """Mark `model_id` loaded if fewer than `limit` models are; False when full.

        The count and the flag are one conditional UPDATE, so concurrent loads cannot both
        take the last slot: SQLite runs the statement under its write lock, and PostgreSQL
        first takes a transaction-scoped advisory lock that every claim shares (a plain
        READ COMMITTED update would let two claims count the same snapshot).
        """
        others = aliased(ModelRow)
        loaded_count = (
            select(func.count())
            .select_from(others)
            .where(others.loaded.is_(True))
            .scalar_subquery()
        )
        with self.db.session() as session:
            if not self.db.is_sqlite:
                session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOADED_SET_LOCK_KEY}
                )
            claimed = session.execute(
                update(ModelRow)
                .where(ModelRow.id == model_id, ModelRow.loaded.is_(False), loaded_count < limit)
                .values(loaded=True)
            ).rowcount  # type: ignore[attr-defined]  # DML answers a CursorResult
            loaded = claimed or bool(
                session.scalar(select(ModelRow.loaded).where(ModelRow.id == model_id))
            )
        if claimed:
            self.on_serving_change()
        return loaded

    def set_loaded(self, model_id: str, loaded: bool) -> None:
        self.update(model_id, loaded=loaded)
        self.on_serving_change()

    def delete(self, model_id: str) -> None:
        with self.db.session() as session:
            session.execute(delete(AliasRow).where(AliasRow.model_id == model_id))
            session.execute(delete(ModelRow).where(ModelRow.id == model_id))
        self.on_serving_change()

    def set_alias(self, name: str, alias: str, model_id: str) -> None:
        """Point `name@alias` at `model_id` in one transaction: it always resolves."""
        with self.db.session() as session:
            updated = session.execute(
                update(AliasRow)
                .where(AliasRow.name == name, AliasRow.alias == alias)
                .values(model_id=model_id)
            ).rowcount  # type: ignore[attr-defined]  # DML answers a CursorResult
            if not updated:
                session.add(AliasRow(name=name, alias=alias, model_id=model_id))
        self.on_serving_change()

    def alias_target(self, name: str, alias: str) -> str | None:
        with self.db.session() as session:
            return session.scalar(
                select(AliasRow.model_id).where(AliasRow.name == name, AliasRow.alias == alias)
            )


def to_info(row: ModelRow, aliases: list[str]) -> ModelInfo:
    warnings = []
    if row.sklearn_version and row.sklearn_version != sklearn.__version__:
        warnings.append(
            f"made with scikit-learn {row.sklearn_version}, this server runs "
            f"{sklearn.__version__}; predictions may differ"
        )
    metrics = dict(row.metrics or {})
    if row.threshold is not None and len(row.classes or []) == 2:
        metrics["threshold"] = row.threshold  # the stored cut is the one predict uses
    return ModelInfo(
        id=row.id,
        name=row.name,
        version=row.version,
        model_type=row.model_type,
        params=row.params,
        vectorizer=row.vectorizer,
        status=row.status,
        loaded=row.loaded,
        is_default=row.is_default,
        aliases=aliases,
        metrics=metrics,
        classes=row.classes or [],
        dataset_id=row.dataset_id,
        label_names=row.label_names,
        error=row.error,
        sklearn_version=row.sklearn_version,
        python_version=row.python_version,
        warnings=warnings,
        created_at=row.created_at,
    )
