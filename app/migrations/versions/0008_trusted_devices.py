"""browsers that logged in to an account before, counted apart for failed logins

Revision ID: 0008
Revises: 0007

Failed logins were counted per name and address only, so a colleague behind the same office
address could lock the account's owner out. A browser with a device cookie from an earlier
login is now counted on its own.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_devices",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_trusted_devices_user_id", "trusted_devices", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_trusted_devices_user_id", "trusted_devices")
    op.drop_table("trusted_devices")
