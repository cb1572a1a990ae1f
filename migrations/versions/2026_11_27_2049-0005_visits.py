"""voluntary visits: offers, the visit's life, answers, requests, reports and remarks, attachments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 20:49:00.661162
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OLD_TYPES = "('exercise', 'calendar', 'visit', 'structure')"
REPORTS = "SELECT id FROM submissions WHERE record_type IN ('visit_report', 'visit_remarks')"
NEW_TYPES = "('exercise', 'calendar', 'visit', 'structure', 'visit_report', 'visit_remarks')"


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_attachments_not_empty')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_sha256'), ['sha256'], unique=False)

    op.create_table('visit_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('requesting_state_id', sa.Integer(), nullable=False),
    sa.Column('host_state_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('air_base', 'unit', 'training_ground', 'naval_base', 'academy', 'weapon_demonstration', 'dispel_concerns', 'border_post', name='request_visit_kind', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('facility', sa.String(length=300), nullable=False),
    sa.Column('preferred_from', sa.Date(), nullable=True),
    sa.Column('preferred_to', sa.Date(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'accepted', 'declined', 'withdrawn', name='visit_request_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status NOT IN ('accepted', 'declined') OR (decided_by_id IS NOT NULL AND decided_at IS NOT NULL)", name=op.f('ck_visit_requests_decided_has_decider')),
    sa.CheckConstraint('preferred_to IS NULL OR preferred_from IS NULL OR preferred_to >= preferred_from', name=op.f('ck_visit_requests_dates_ordered')),
    sa.CheckConstraint('requesting_state_id != host_state_id', name=op.f('ck_visit_requests_not_own_state')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_visit_requests_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_visit_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['host_state_id'], ['member_states.id'], name=op.f('fk_visit_requests_host_state_id_member_states')),
    sa.ForeignKeyConstraint(['offer_id'], ['submissions.id'], name=op.f('fk_visit_requests_offer_id_submissions')),
    sa.ForeignKeyConstraint(['requesting_state_id'], ['member_states.id'], name=op.f('fk_visit_requests_requesting_state_id_member_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_requests')),
    sa.UniqueConstraint('reference', name=op.f('uq_visit_requests_reference'))
    )
    with op.batch_alter_table('visit_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_requests_host_state_id'), ['host_state_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_requests_requesting_state_id'), ['requesting_state_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_requests_status'), ['status'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'invitations_sent', 'postponed', 'held', 'cancelled', name='visit_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('answer_by', sa.Date(), nullable=True),
    sa.Column('invitations_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('postponements', sa.Integer(), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status != 'cancelled' OR cancel_reason IS NOT NULL", name=op.f('ck_visits_cancelled_has_reason')),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_visits_dates_ordered')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_visits_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_visits_submission_id'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_start_date'), ['start_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_status'), ['status'], unique=False)

    op.create_table('visit_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('accepted', 'declined', name='answer_decision', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('participant_count', sa.Integer(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("decision = 'accepted' OR participant_count = 0", name=op.f('ck_visit_answers_declined_has_no_participants')),
    sa.CheckConstraint('participant_count >= 0 AND participant_count <= places', name=op.f('ck_visit_answers_within_places')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_visit_answers_answered_by_id_users')),
    sa.ForeignKeyConstraint(['state_id'], ['member_states.id'], name=op.f('fk_visit_answers_state_id_member_states')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_answers_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_answers')),
    sa.UniqueConstraint('visit_id', 'state_id', name=op.f('uq_visit_answers_visit_id_state_id'))
    )
    with op.batch_alter_table('visit_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_answers_state_id'), ['state_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_answers_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('air_base', 'unit', 'training_ground', 'naval_base', 'academy', 'weapon_demonstration', 'dispel_concerns', 'border_post', name='visit_kind', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('facility_ru', sa.String(length=300), nullable=False),
    sa.Column('facility_zh', sa.String(length=300), nullable=False),
    sa.Column('facility_en', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('within_border_zone', sa.Boolean(), nullable=False),
    sa.Column('border_segment', sa.String(length=200), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('programme', sa.Text(), nullable=False),
    sa.Column('point_of_entry', sa.String(length=200), nullable=False),
    sa.Column('cost_travel', sa.Enum('host', 'visiting', 'shared', name='cost_travel', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('cost_local_transport', sa.Enum('host', 'visiting', 'shared', name='cost_local_transport', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('cost_accommodation', sa.Enum('host', 'visiting', 'shared', name='cost_accommodation', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('cost_interpretation', sa.Enum('host', 'visiting', 'shared', name='cost_interpretation', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('costs_note', sa.Text(), nullable=False),
    sa.Column('interpret_ru', sa.Boolean(), nullable=False),
    sa.Column('interpret_zh', sa.Boolean(), nullable=False),
    sa.Column('interpret_en', sa.Boolean(), nullable=False),
    sa.Column('interpretation_other', sa.String(length=200), nullable=False),
    sa.Column('invite_all_members', sa.Boolean(), nullable=False),
    sa.Column('places_each', sa.Integer(), nullable=True),
    sa.Column('answer_by', sa.Date(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_visit_details_dates_ordered')),
    sa.CheckConstraint('latitude IS NULL OR (latitude >= -90 AND latitude <= 90)', name=op.f('ck_visit_details_latitude_range')),
    sa.CheckConstraint('longitude IS NULL OR (longitude >= -180 AND longitude <= 180)', name=op.f('ck_visit_details_longitude_range')),
    sa.CheckConstraint('places_each IS NULL OR places_each >= 1', name=op.f('ck_visit_details_places_each_positive')),
    sa.ForeignKeyConstraint(['request_id'], ['visit_requests.id'], name=op.f('fk_visit_details_request_id_visit_requests')),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_visit_details_revision_id_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_details')),
    sa.UniqueConstraint('revision_id', name=op.f('uq_visit_details_revision_id'))
    )
    op.create_table('visit_papers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('held_from', sa.Date(), nullable=True),
    sa.Column('held_to', sa.Date(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('held_to IS NULL OR held_from IS NULL OR held_to >= held_from', name=op.f('ck_visit_papers_dates_ordered')),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_visit_papers_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_visit_papers_revision_id_revisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_papers_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_papers')),
    sa.UniqueConstraint('revision_id', name=op.f('uq_visit_papers_revision_id'))
    )
    with op.batch_alter_table('visit_papers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_papers_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('details_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.CheckConstraint('places >= 1', name=op.f('ck_visit_invitations_places_positive')),
    sa.ForeignKeyConstraint(['details_id'], ['visit_details.id'], name=op.f('fk_visit_invitations_details_id_visit_details'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_id'], ['member_states.id'], name=op.f('fk_visit_invitations_state_id_member_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_invitations')),
    sa.UniqueConstraint('details_id', 'state_id', name=op.f('uq_visit_invitations_details_id_state_id'))
    )
    with op.batch_alter_table('visit_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_invitations_details_id'), ['details_id'], unique=False)

    op.create_table('visit_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.String(length=200), nullable=False),
    sa.Column('post', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['visit_answers.id'], name=op.f('fk_visit_participants_answer_id_visit_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_participants'))
    )
    with op.batch_alter_table('visit_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_participants_answer_id'), ['answer_id'], unique=False)

    # Two new record types: the post-visit report and the visiting states' remarks. The CHECK constraint of the
    # non-native enum is replaced explicitly (Alembic does not rewrite it when the type changes).
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_submissions_record_type'), type_='check')
        batch_op.alter_column('record_type', existing_type=sa.String(length=9), type_=sa.String(length=13),
                              existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_submissions_record_type'), f"record_type IN {NEW_TYPES}")


def downgrade() -> None:
    # Reports and remarks cannot exist without these tables (SQLite runs migrations with foreign keys off:
    # their revisions and events are deleted by hand, not by the cascade).
    for table in ('visit_papers', 'submission_events', 'revisions'):
        column = 'revision_id IN (SELECT id FROM revisions WHERE submission_id IN ({}))' if table == 'visit_papers' \
            else 'submission_id IN ({})'
        op.execute(f"DELETE FROM {table} WHERE " + column.format(REPORTS))
    op.execute(f"DELETE FROM submissions WHERE id IN ({REPORTS})")
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_submissions_record_type'), type_='check')
        batch_op.alter_column('record_type', existing_type=sa.String(length=13), type_=sa.String(length=9),
                              existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_submissions_record_type'), f"record_type IN {OLD_TYPES}")

    with op.batch_alter_table('visit_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_participants_answer_id'))

    op.drop_table('visit_participants')
    with op.batch_alter_table('visit_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_invitations_details_id'))

    op.drop_table('visit_invitations')
    with op.batch_alter_table('visit_papers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_papers_visit_id'))

    op.drop_table('visit_papers')
    op.drop_table('visit_details')
    with op.batch_alter_table('visit_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_answers_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_answers_state_id'))

    op.drop_table('visit_answers')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_status'))
        batch_op.drop_index(batch_op.f('ix_visits_start_date'))

    op.drop_table('visits')
    with op.batch_alter_table('visit_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_requests_status'))
        batch_op.drop_index(batch_op.f('ix_visit_requests_requesting_state_id'))
        batch_op.drop_index(batch_op.f('ix_visit_requests_host_state_id'))

    op.drop_table('visit_requests')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_sha256'))

    op.drop_table('attachments')
