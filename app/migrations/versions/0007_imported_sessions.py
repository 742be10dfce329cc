"""who imported a session, and when

Revision ID: 0007
Revises: 0006

A session brought in from an export was indistinguishable from one practised here. Sessions
imported before this revision stay unmarked: nothing recorded which they were.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("practice_sessions", sa.Column("imported_by", sa.String(length=64)))
    op.add_column(
        "practice_sessions", sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime())
    )


def downgrade() -> None:
    op.drop_column("practice_sessions", "imported_at")
    op.drop_column("practice_sessions", "imported_by")
