"""submission workflow: envelope, revisions, timeline, reference counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:51:09.525085
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reference_counters',
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('record_type', 'year', name=op.f('pk_reference_counters'))
    )
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.Enum('exercise', 'calendar', 'visit', 'structure', name='record_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'accepted', 'withdrawn', 'cancellation_requested', 'cancelled', 'deleted', name='submission_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'members', 'secretariat', name='visibility', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('is_nil', sa.Boolean(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('is_late', sa.Boolean(), nullable=False),
    sa.Column('entered_on_behalf', sa.Boolean(), nullable=False),
    sa.Column('source_document', sa.String(length=200), nullable=True),
    sa.Column('original_language', sa.String(length=5), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_revision_no', sa.Integer(), nullable=False),
    sa.Column('accepted_revision_no', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status NOT IN ('accepted', 'cancellation_requested', 'cancelled') OR (accepted_revision_no IS NOT NULL AND decided_by_id IS NOT NULL AND decided_at IS NOT NULL)", name=op.f('ck_submissions_accepted_has_decision')),
    sa.CheckConstraint("status NOT IN ('submitted', 'accepted') OR (submitted_by_id IS NOT NULL AND submitted_at IS NOT NULL)", name=op.f('ck_submissions_submitted_has_submitter')),
    sa.CheckConstraint('NOT entered_on_behalf OR source_document IS NOT NULL', name=op.f('ck_submissions_on_behalf_cites_source')),
    sa.CheckConstraint('current_revision_no >= 1', name=op.f('ck_submissions_revision_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_submissions_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_submissions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['state_id'], ['member_states.id'], name=op.f('fk_submissions_state_id_member_states')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_submissions_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('reference', name=op.f('uq_submissions_reference'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_state_id'), ['state_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_status'), ['status'], unique=False)

    op.create_table('revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('frozen_at IS NULL OR snapshot IS NOT NULL', name=op.f('ck_revisions_frozen_has_snapshot')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_revisions_submission_id_submissions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_revisions_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revisions')),
    sa.UniqueConstraint('submission_id', 'number', name=op.f('uq_revisions_submission_id_number'))
    )
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revisions_submission_id'), ['submission_id'], unique=False)

    op.create_table('submission_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('revision_no', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=30), nullable=True),
    sa.Column('to_status', sa.String(length=30), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('comment_visibility', sa.Enum('internal', 'shared', name='comment_visibility', native_enum=False, create_constraint=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_submission_events_actor_id_users')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_events_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_events'))
    )
    with op.batch_alter_table('submission_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_events_submission_id'), ['submission_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('submission_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_events_submission_id'))

    op.drop_table('submission_events')
    with op.batch_alter_table('revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revisions_submission_id'))

    op.drop_table('revisions')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_status'))
        batch_op.drop_index(batch_op.f('ix_submissions_state_id'))

    op.drop_table('submissions')
    op.drop_table('reference_counters')
