"""exercise notifications, calendars, inquiries, profiles in force

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:56:01.129784
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('profiles_in_force',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('in_force', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_profiles_in_force_changed_by_id_users')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_profiles_in_force'))
    )
    op.create_table('inquiries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('asking_state_id', sa.Integer(), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('emergency', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(answer IS NULL) = (answered_at IS NULL)', name=op.f('ck_inquiries_answer_has_time')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_inquiries_answered_by_id_users')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], name=op.f('fk_inquiries_asked_by_id_users')),
    sa.ForeignKeyConstraint(['asking_state_id'], ['member_states.id'], name=op.f('fk_inquiries_asking_state_id_member_states')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_inquiries_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiries'))
    )
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiries_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inquiries_submission_id'), ['submission_id'], unique=False)

    op.create_table('calendar_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_calendar_details_revision_id_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_details')),
    sa.UniqueConstraint('revision_id', name=op.f('uq_calendar_details_revision_id'))
    )
    with op.batch_alter_table('calendar_details', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_details_year'), ['year'], unique=False)

    op.create_table('calendar_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('designation', sa.String(length=300), nullable=False),
    sa.Column('exercise_type', sa.Enum('field_training', 'command_post', 'live_fire', 'transfer', 'concentration', 'amphibious', 'airborne', 'joint_multinational', 'counter_terrorism', name='calendar_exercise_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.Column('troops', sa.Integer(), nullable=True),
    sa.CheckConstraint('planned_end >= planned_start', name=op.f('ck_calendar_entries_dates_ordered')),
    sa.CheckConstraint('troops IS NULL OR troops >= 0', name=op.f('ck_calendar_entries_troops_not_negative')),
    sa.ForeignKeyConstraint(['calendar_id'], ['calendar_details.id'], name=op.f('fk_calendar_entries_calendar_id_calendar_details'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_entries'))
    )
    with op.batch_alter_table('calendar_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_entries_calendar_id'), ['calendar_id'], unique=False)

    op.create_table('exercise_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('designation_ru', sa.String(length=300), nullable=False),
    sa.Column('designation_zh', sa.String(length=300), nullable=False),
    sa.Column('designation_en', sa.String(length=300), nullable=False),
    sa.Column('exercise_type', sa.Enum('field_training', 'command_post', 'live_fire', 'transfer', 'concentration', 'amphibious', 'airborne', 'joint_multinational', 'counter_terrorism', name='exercise_type', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('command_level', sa.String(length=200), nullable=False),
    sa.Column('headquarters', sa.String(length=200), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('area_description', sa.Text(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('within_border_zone', sa.Boolean(), nullable=False),
    sa.Column('border_segment', sa.String(length=200), nullable=False),
    sa.Column('troops_total', sa.Integer(), nullable=True),
    sa.Column('troops_ground', sa.Integer(), nullable=True),
    sa.Column('troops_air', sa.Integer(), nullable=True),
    sa.Column('troops_naval', sa.Integer(), nullable=True),
    sa.Column('troops_airborne', sa.Integer(), nullable=True),
    sa.Column('troops_other', sa.Integer(), nullable=True),
    sa.Column('battle_tanks', sa.Integer(), nullable=True),
    sa.Column('acv', sa.Integer(), nullable=True),
    sa.Column('artillery', sa.Integer(), nullable=True),
    sa.Column('combat_aircraft', sa.Integer(), nullable=True),
    sa.Column('helicopters', sa.Integer(), nullable=True),
    sa.Column('sorties', sa.Integer(), nullable=True),
    sa.Column('warships', sa.Integer(), nullable=True),
    sa.Column('amphibious_airborne', sa.Integer(), nullable=True),
    sa.Column('observers_invited', sa.Boolean(), nullable=False),
    sa.Column('observer_programme', sa.Text(), nullable=False),
    sa.Column('observer_places_per_state', sa.Integer(), nullable=True),
    sa.Column('observer_arrival_point', sa.String(length=200), nullable=False),
    sa.Column('calendar_entry_id', sa.Integer(), nullable=True),
    sa.Column('not_forecast_reason', sa.Text(), nullable=False),
    sa.Column('is_alert', sa.Boolean(), nullable=False),
    sa.Column('alert_justification', sa.Text(), nullable=False),
    sa.Column('late_explanation', sa.Text(), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), nullable=True),
    sa.Column('mandatory_notification', sa.Boolean(), nullable=False),
    sa.Column('observers_required', sa.Boolean(), nullable=False),
    sa.CheckConstraint('acv IS NULL OR acv >= 0', name=op.f('ck_exercise_details_acv_not_negative')),
    sa.CheckConstraint('amphibious_airborne IS NULL OR amphibious_airborne >= 0', name=op.f('ck_exercise_details_amphibious_airborne_not_negative')),
    sa.CheckConstraint('artillery IS NULL OR artillery >= 0', name=op.f('ck_exercise_details_artillery_not_negative')),
    sa.CheckConstraint('battle_tanks IS NULL OR battle_tanks >= 0', name=op.f('ck_exercise_details_battle_tanks_not_negative')),
    sa.CheckConstraint('combat_aircraft IS NULL OR combat_aircraft >= 0', name=op.f('ck_exercise_details_combat_aircraft_not_negative')),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_exercise_details_dates_ordered')),
    sa.CheckConstraint('helicopters IS NULL OR helicopters >= 0', name=op.f('ck_exercise_details_helicopters_not_negative')),
    sa.CheckConstraint('latitude IS NULL OR (latitude >= -90 AND latitude <= 90)', name=op.f('ck_exercise_details_latitude_range')),
    sa.CheckConstraint('longitude IS NULL OR (longitude >= -180 AND longitude <= 180)', name=op.f('ck_exercise_details_longitude_range')),
    sa.CheckConstraint('sorties IS NULL OR sorties >= 0', name=op.f('ck_exercise_details_sorties_not_negative')),
    sa.CheckConstraint('troops_air IS NULL OR troops_air >= 0', name=op.f('ck_exercise_details_troops_air_not_negative')),
    sa.CheckConstraint('troops_airborne IS NULL OR troops_airborne >= 0', name=op.f('ck_exercise_details_troops_airborne_not_negative')),
    sa.CheckConstraint('troops_ground IS NULL OR troops_ground >= 0', name=op.f('ck_exercise_details_troops_ground_not_negative')),
    sa.CheckConstraint('troops_naval IS NULL OR troops_naval >= 0', name=op.f('ck_exercise_details_troops_naval_not_negative')),
    sa.CheckConstraint('troops_other IS NULL OR troops_other >= 0', name=op.f('ck_exercise_details_troops_other_not_negative')),
    sa.CheckConstraint('troops_total IS NULL OR troops_total >= 0', name=op.f('ck_exercise_details_troops_total_not_negative')),
    sa.CheckConstraint('warships IS NULL OR warships >= 0', name=op.f('ck_exercise_details_warships_not_negative')),
    sa.ForeignKeyConstraint(['calendar_entry_id'], ['calendar_entries.id'], name=op.f('fk_exercise_details_calendar_entry_id_calendar_entries')),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_exercise_details_revision_id_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_details')),
    sa.UniqueConstraint('revision_id', name=op.f('uq_exercise_details_revision_id'))
    )
    with op.batch_alter_table('exercise_details', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_details_start_date'), ['start_date'], unique=False)

    op.create_table('exercise_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('details_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('co_organiser', 'participant', 'observer', name='participant_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('contribution', sa.String(length=200), nullable=False),
    sa.Column('troops', sa.Integer(), nullable=True),
    sa.CheckConstraint('troops IS NULL OR troops >= 0', name=op.f('ck_exercise_participants_troops_not_negative')),
    sa.ForeignKeyConstraint(['details_id'], ['exercise_details.id'], name=op.f('fk_exercise_participants_details_id_exercise_details'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_id'], ['member_states.id'], name=op.f('fk_exercise_participants_state_id_member_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_participants'))
    )
    with op.batch_alter_table('exercise_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_participants_details_id'), ['details_id'], unique=False)

    op.create_table('exercise_phases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('details_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.Enum('deployment', 'concentration', 'active', 'recovery', name='phase_name', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_exercise_phases_dates_ordered')),
    sa.ForeignKeyConstraint(['details_id'], ['exercise_details.id'], name=op.f('fk_exercise_phases_details_id_exercise_details'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_phases'))
    )
    with op.batch_alter_table('exercise_phases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_phases_details_id'), ['details_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('exercise_phases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exercise_phases_details_id'))

    op.drop_table('exercise_phases')
    with op.batch_alter_table('exercise_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exercise_participants_details_id'))

    op.drop_table('exercise_participants')
    with op.batch_alter_table('exercise_details', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exercise_details_start_date'))

    op.drop_table('exercise_details')
    with op.batch_alter_table('calendar_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_entries_calendar_id'))

    op.drop_table('calendar_entries')
    with op.batch_alter_table('calendar_details', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_details_year'))

    op.drop_table('calendar_details')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiries_submission_id'))
        batch_op.drop_index(batch_op.f('ix_inquiries_due_at'))

    op.drop_table('inquiries')
    op.drop_table('profiles_in_force')
