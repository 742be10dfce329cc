"""failed logins per name and address, and model grades, counted in the database

Revision ID: 0006
Revises: 0005

Failed logins were counted on the account, so anyone could keep a person (an admin too)
locked out by failing their login every 15 minutes; names that do not exist, and the hourly
quota of model grades, were counted in the server's memory, one count per process. Now
`login_failures` holds failures keyed by the name tried and the client's address, and
`model_grade_uses` the last hour's model grades. Locks in force are not carried over.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(length=64), primary_key=True),
        sa.Column("address", sa.String(length=64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_login_failures_last_failed_at", "login_failures", ["last_failed_at"])
    op.create_table(
        "model_grade_uses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_model_grade_uses_user_id", "model_grade_uses", ["user_id"])
    op.create_index("ix_model_grade_uses_created_at", "model_grade_uses", ["created_at"])
    # SQLite 3.35+ drops a column in place; a batch copy of `users` would have to drop the
    # table, which the sessions' foreign keys to it forbid
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    op.add_column(
        "users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("users", sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime()))
    op.drop_table("model_grade_uses")
    op.drop_index("ix_login_failures_last_failed_at", "login_failures")
    op.drop_table("login_failures")
