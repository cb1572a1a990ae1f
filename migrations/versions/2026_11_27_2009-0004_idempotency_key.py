"""idempotency key on submissions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 20:09:37.656007
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_submissions_idempotency_key'), ['idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_submissions_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')

