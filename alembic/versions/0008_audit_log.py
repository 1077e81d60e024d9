"""audit_log: every write, who made it and through which interface, append-only (issue 13 §3)

Revision ID: 0008_audit_log
Revises: 0007_editor_role
Create Date: 2026-12-02 09:40:00

Besides the table, triggers make the database itself refuse to UPDATE, DELETE or
TRUNCATE it, so that a raw SQL statement cannot do what the ORM refuses. The drift
check does not compare triggers; tests/test_audit.py checks that they are there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_audit_log"
down_revision: str | None = "0007_editor_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit_log is append-only"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_log_no_{verb} BEFORE {verb.upper()} ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    for verb in ("update", "delete")
]
POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("interface", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_key", sa.String(length=320), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "interface IN ('cli', 'web', 'import', 'scheduler')", name=op.f("ck_audit_log_interface")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_actor_at", ["actor", "at"], unique=False)
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity_entity_key_at", ["entity", "entity_key", "at"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    # The log goes with the table (its triggers with it): a tracker before 0008 keeps none.
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
