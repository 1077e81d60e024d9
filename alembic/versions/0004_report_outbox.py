"""report outbox: report emails are deliveries (deliveries.report_run_id), the digest kept on report_runs

Revision ID: 0004_report_outbox
Revises: 0003_reminders
Create Date: 2026-11-23 21:29:29.460626
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_report_outbox"
down_revision: str | None = "0003_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: the reports made before this migration keep no digest, and reminder digests
    # have no report.
    with op.batch_alter_table("report_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("digest_html", sa.Text(), nullable=True))

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_run_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deliveries_report_run_id"), ["report_run_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_report_run_id_report_runs"),
            "report_runs",
            ["report_run_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    # A tracker before 0004 cannot send a report email: without its report it would look like
    # a reminder digest with nothing in it. The report emails go with the column.
    op.execute(sa.text("DELETE FROM deliveries WHERE report_run_id IS NOT NULL"))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_deliveries_report_run_id_report_runs"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deliveries_report_run_id"))
        batch_op.drop_column("report_run_id")

    with op.batch_alter_table("report_runs", schema=None) as batch_op:
        batch_op.drop_column("digest_html")
        batch_op.drop_column("digest_text")
