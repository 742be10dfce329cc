"""at most one pending grade per session

Revision ID: 0003
Revises: 0002

Two requests ending the same session at once each stored a grade and graded it; the index
lets only one claim the grading. Pending grades already doubled are closed as failed,
keeping the newest.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.execute(
        "UPDATE grades SET status = 'failed', error = 'superseded by a later grade' "
        "WHERE status = 'pending' AND id NOT IN "
        "(SELECT MAX(id) FROM grades WHERE status = 'pending' GROUP BY session_id)"
    )
    op.create_index(
        "uq_grades_one_pending",
        "grades",
        ["session_id"],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("uq_grades_one_pending", "grades")
