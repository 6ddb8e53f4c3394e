"""security limits (issue 12)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The prediction log's budget (PREDICTION_LOG_MAX_MB) sums each row's approximate size.
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0")
        )
    # What labels mean, for display (issue 14's label names, kept in this wave's slot).
    for table in ("datasets", "models"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("label_names", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("datasets", "models"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("label_names")
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.drop_column("size_bytes")
