"""claims and resolutions: promises, a third kind of claim, with progress statuses (issue 10 §2)

A promise is judged kept, compromise or broken; while it is open, its history can record
progress (in-the-works, stalled) in a resolution row whose verdict is NULL, and the claim
caches the latest progress as it caches the verdict.

Downgrading REFUSES while any promise is stored: the older schema has no place for one,
and deleting claims (and their verdict history) behind a reviewer's back is worse than
stopping. Export them (`tracker export`), delete them, then downgrade.

Revision ID: 0009_promises
Revises: 0008_audit_log
Create Date: 2026-12-02 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0009_promises"
down_revision: str | None = "0008_audit_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_VERDICTS = (
    "'true', 'false', 'ambiguous', 'annulled', 'mostly-true', 'half-true', 'mostly-false', 'unverifiable'"
)
NEW_VERDICTS = OLD_VERDICTS + ", 'kept', 'compromise', 'broken'"
PROGRESS = "'in-the-works', 'stalled'"


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.String(length=20), nullable=True))
        batch_op.drop_constraint(op.f("ck_claims_kind"), type_="check")
        batch_op.drop_constraint(op.f("ck_claims_verdict"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_claims_kind"), sa.text("kind IN ('prediction', 'fact', 'promise')")
        )
        batch_op.create_check_constraint(
            op.f("ck_claims_verdict"), sa.text(f"verdict IS NULL OR verdict IN ({NEW_VERDICTS})")
        )
        batch_op.create_check_constraint(
            op.f("ck_claims_progress"), sa.text(f"progress IS NULL OR progress IN ({PROGRESS})")
        )
    with op.batch_alter_table("resolutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.String(length=20), nullable=True))
        batch_op.drop_constraint(op.f("ck_resolutions_verdict"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_resolutions_verdict"), sa.text(f"verdict IS NULL OR verdict IN ({NEW_VERDICTS})")
        )
        batch_op.create_check_constraint(
            op.f("ck_resolutions_progress"),
            sa.text(f"progress IS NULL OR (verdict IS NULL AND progress IN ({PROGRESS}))"),
        )


def downgrade() -> None:
    connection = op.get_bind()
    promises = connection.execute(sa.text("SELECT count(*) FROM claims WHERE kind = 'promise'")).scalar()
    if promises:
        # A CommandError: `tracker db downgrade` reports it in one line, and nothing has changed.
        raise CommandError(
            f"{promises} promise claim(s) are stored and the schema before 0009_promises has no place "
            "for them; export them (tracker export), delete them, then downgrade"
        )
    with op.batch_alter_table("resolutions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_resolutions_progress"), type_="check")
        batch_op.drop_constraint(op.f("ck_resolutions_verdict"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_resolutions_verdict"), sa.text(f"verdict IS NULL OR verdict IN ({OLD_VERDICTS})")
        )
        batch_op.drop_column("progress")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_claims_progress"), type_="check")
        batch_op.drop_constraint(op.f("ck_claims_verdict"), type_="check")
        batch_op.drop_constraint(op.f("ck_claims_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_claims_kind"), sa.text("kind IN ('prediction', 'fact')"))
        batch_op.create_check_constraint(
            op.f("ck_claims_verdict"), sa.text(f"verdict IS NULL OR verdict IN ({OLD_VERDICTS})")
        )
        batch_op.drop_column("progress")
