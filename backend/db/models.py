"""ORM tables: datasets, models, aliases, tasks, prediction log. Times are naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class DatasetRow(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list[Any]] = mapped_column(JSON)
    text_column: Mapped[str] = mapped_column(String(255))
    label_column: Mapped[str] = mapped_column(String(255))
    # "int" or "str": labels keep the type they had in the uploaded file.
    label_kind: Mapped[str] = mapped_column(String(8))
    classes: Mapped[dict[str, Any]] = mapped_column(JSON)
    positive_label: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # {"<label>": "<name>"} for display, e.g. {"1": "toxic"} (migration 0002).
    label_names: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    dropped_rows: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ModelRow(Base):
    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_name_version"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    model_type: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    vectorizer: Mapped[dict[str, Any]] = mapped_column(JSON)
    test_size: Mapped[float] = mapped_column(Float, default=0.2)
    random_state: Mapped[int] = mapped_column(Integer, default=42)
    status: Mapped[str] = mapped_column(String(16))
    loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    classes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    dataset_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Copied from the training dataset when the model is created (migration 0002).
    label_names: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    artifact_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sklearn_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    python_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Binary models: the cut on the positive class's score; None decides by the largest score.
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The validation split's drift profile (ml/drift.py); None for uploaded models.
    drift_reference: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Binary models: held-out scores in compact form (ml/holdout.py), for threshold changes.
    # Deferred: tens of kilobytes that listing and serving never need.
    holdout_curve: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)


class AliasRow(Base):
    __tablename__ = "aliases"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))


class TaskRow(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # What to run: a JSON description rebuilt into a job by the dispatcher.
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Which server process runs it ("host:pid:instance") and when it last said so.
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    worker_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class PredictionLogRow(Base):
    __tablename__ = "prediction_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    model_id: Mapped[str] = mapped_column(String(64), index=True)
    endpoint: Mapped[str] = mapped_column(String(32))
    n_texts: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Per text: {"sha256", "prediction"} and "text" only when LOG_PREDICTION_TEXTS is on.
    items: Mapped[list[Any]] = mapped_column(JSON)
    # Approximate stored size, for the PREDICTION_LOG_MAX_MB budget (services/log_budget.py).
    size_bytes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Monitoring (issue 16). Prediction ids of this call are "<call_id>_<index>".
    call_id: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)


class PredictionFeaturesRow(Base):
    """Drift features of one model's predictions written together (ml/drift.py): float32 rows,
    one per text (length, OOV share, class scores). One row per writer batch, not per call:
    100,000 one-text calls are a few hundred rows to read, not 100,000."""

    __tablename__ = "prediction_features"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # the first call's
    n: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    features: Mapped[bytes] = mapped_column(LargeBinary)


Index(
    "ix_prediction_features_model_time",
    PredictionFeaturesRow.model_id,
    PredictionFeaturesRow.created_at,
)


class FeedbackRow(Base):
    """A moderator's correct label for one text a model saw; the latest per key wins."""

    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # "p:<prediction id>" or "t:<sha256 of the text>", unique per model: a repeat replaces.
    dedupe_key: Mapped[str] = mapped_column(String(80))
    model_id: Mapped[str] = mapped_column(String(64), index=True)
    prediction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[Any] = mapped_column(JSON)
    predicted: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("model_id", "dedupe_key", name="uq_feedback_key"),)
