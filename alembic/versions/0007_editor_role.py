"""reviewers: the editor role, for people who record claims (issue 13)

Revision ID: 0007_editor_role
Revises: 0006_recorded_late
Create Date: 2026-12-02 09:40:00

Going down, editors become reviewers: the older schema has no role between reviewer
and admin, and a reviewer can do nothing an editor could not.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_editor_role"
down_revision: str | None = "0006_recorded_late"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = ("reviewer", "editor", "admin")
_OLD_ROLES = ("reviewer", "admin")


def _set_roles(roles: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{role}'" for role in roles)
    with op.batch_alter_table("reviewers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reviewers_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reviewers_role"), sa.text(f"role IN ({allowed})"))


def upgrade() -> None:
    _set_roles(_ROLES)


def downgrade() -> None:
    reviewers = sa.table("reviewers", sa.column("role", sa.String))
    op.execute(reviewers.update().where(reviewers.c.role == "editor").values(role="reviewer"))
    _set_roles(_OLD_ROLES)
