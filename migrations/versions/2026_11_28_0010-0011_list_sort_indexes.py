"""list sort indexes: the exercise list reads a page from an index, not every row, in every sort and range

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 00:10:00
"""

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sorting the list by "submitted" scanned and sorted every visible notification (bench/pages.py: 2.2 s at
    # 100,000 on SQLite); with the index a page reads about a page of rows.
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_submitted_at'), ['submitted_at'], unique=False)
    # The list in start-date order with a date range: exercises that ended before the range are rejected in the
    # index, without reading their rows.
    with op.batch_alter_table('exercise_details', schema=None) as batch_op:
        batch_op.create_index('ix_exercise_details_start_end', ['start_date', 'end_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('exercise_details', schema=None) as batch_op:
        batch_op.drop_index('ix_exercise_details_start_end')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_submitted_at'))
