"""monitoring: drift features, feedback (issue 16)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drift_reference", sa.JSON(), nullable=True))
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_id", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint("uq_prediction_log_call_id", ["call_id"])
    op.create_table(
        "prediction_features",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("features", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("prediction_features", schema=None) as batch_op:
        batch_op.create_index("ix_prediction_features_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_prediction_features_model_time", ["model_id", "created_at"], unique=False
        )
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=80), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("prediction_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.JSON(), nullable=False),
        sa.Column("predicted", sa.JSON(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "dedupe_key", name="uq_feedback_key"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_model_id", ["model_id"], unique=False)
        batch_op.create_index("ix_feedback_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("prediction_features")
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.drop_constraint("uq_prediction_log_call_id", type_="unique")
        batch_op.drop_column("call_id")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_column("drift_reference")
