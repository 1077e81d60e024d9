"""claims and resolutions: double review, two blind verdicts per claim (issue 13 §2)

A claim can await a second verdict or be disputed (two verdicts that differ, waiting for an
admin); a history entry says what it is within its round (`role`: verdict, first, second,
adjudication). Existing entries are ordinary verdicts.

Downgrading REFUSES while a claim is awaiting a second verdict or disputed: the older schema
reads the latest verdict in a history as the claim's verdict, so such a claim would come
back resolved with one reviewer's unadjudicated word. Un-resolve (or finish) them first.
Double-reviewed claims that are resolved step down as they are: their latest entry is the
verdict that resolved them; only the roles are dropped.

Revision ID: 0012_double_review
Revises: 0011_criteria_reason
Create Date: 2026-12-02 10:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0012_double_review"
down_revision: str | None = "0011_criteria_reason"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "'open', 'resolved'"
NEW_STATUSES = OLD_STATUSES + ", 'awaiting', 'disputed'"
ROLES = "'verdict', 'first', 'second', 'adjudication'"


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_claims_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_claims_status"), sa.text(f"status IN ({NEW_STATUSES})"))
    with op.batch_alter_table("resolutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=20), server_default="verdict", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_resolutions_role"),
            sa.text(f"role IN ({ROLES}) AND (role = 'verdict' OR verdict IS NOT NULL)"),
        )


def downgrade() -> None:
    connection = op.get_bind()
    pending = connection.execute(
        sa.text("SELECT count(*) FROM claims WHERE status IN ('awaiting', 'disputed')")
    ).scalar()
    if pending:
        # A CommandError: `tracker db downgrade` reports it in one line, and nothing has changed.
        raise CommandError(
            f"{pending} claim(s) are awaiting a second verdict or disputed, and the schema before "
            "0012_double_review has no place for them; finish or un-resolve them (tracker unresolve), "
            "then downgrade"
        )
    with op.batch_alter_table("resolutions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_resolutions_role"), type_="check")
        batch_op.drop_column("role")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_claims_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_claims_status"), sa.text(f"status IN ({OLD_STATUSES})"))
