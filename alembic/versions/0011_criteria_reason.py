"""criteria_versions: why the criteria or deadline changed, and who changed them (issue 13)

Revision ID: 0011_criteria_reason
Revises: 0010_pending_imports
Create Date: 2026-12-02 09:30:00

Versions recorded before this (the first version of every claim, and revisions from the
CLI or a claims file) have no reason and no author: both columns stay NULL for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_criteria_reason"
down_revision: str | None = "0010_pending_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("criteria_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_criteria_versions_recorded_by_id"), ["recorded_by_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_criteria_versions_recorded_by_id_reviewers"),
            "reviewers",
            ["recorded_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("criteria_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_criteria_versions_recorded_by_id_reviewers"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_criteria_versions_recorded_by_id"))
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_column("reason")
