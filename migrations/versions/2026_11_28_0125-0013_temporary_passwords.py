"""temporary passwords: a password an administrator set must be replaced by the user at the next sign-in

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 01:25:00

Existing accounts are not flagged: their passwords may long since have been changed by their owners, and the
registry cannot tell which were not.
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
