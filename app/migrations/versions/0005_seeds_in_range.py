"""seeds within PostgreSQL's INTEGER

Revision ID: 0005
Revises: 0004

Early SQLite databases could hold session seeds above 2^31 - 1 (SQLite integers are 64-bit).
An export refused them, as PostgreSQL cannot store them and an import checks the range, so
those sessions could not be exported or moved. Folding them into range changes only which
scripted lines the offline client picks in an active session's later turns.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE practice_sessions SET seed = seed % 2147483648 WHERE seed > 2147483647 OR seed < 0"
    )


def downgrade() -> None:
    pass  # the old seeds are not kept: there is nothing to restore
