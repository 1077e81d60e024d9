"""claims: probability_basis (where a bare number comes from) and recorded_after_outcome (issue 10)

Revision ID: 0006_recorded_late
Revises: 0005_web_accounts
Create Date: 2026-12-02 06:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_recorded_late"
down_revision: str | None = "0005_web_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing claims were not marked: false until the file says otherwise (criteria recorded
    # after their deadline are marked from the dates alone, so they need no backfill).
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("probability_basis", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("recorded_after_outcome", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("recorded_after_outcome")
        batch_op.drop_column("probability_basis")
