"""covering indexes for the session lists

Revision ID: 0002
Revises: 0001

"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_practice_sessions_user_created", "practice_sessions", ["user_id", "created_at", "id"]
    )
    op.create_index(
        "ix_practice_sessions_trainee_created", "practice_sessions", ["trainee", "created_at", "id"]
    )
    op.create_index(
        "ix_practice_sessions_persona_status_user",
        "practice_sessions",
        ["persona_id", "status", "user_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_practice_sessions_persona_status_user", "practice_sessions")
    op.drop_index("ix_practice_sessions_trainee_created", "practice_sessions")
    op.drop_index("ix_practice_sessions_user_created", "practice_sessions")
