"""structure disclosures

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 20:48:16.953051
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('structure_details',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('ministry_name_ru', sa.String(length=300), nullable=False),
    sa.Column('ministry_name_zh', sa.String(length=300), nullable=False),
    sa.Column('ministry_name_en', sa.String(length=300), nullable=False),
    sa.Column('ministry_name_native', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['revisions.id'], name=op.f('fk_structure_details_revision_id_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structure_details')),
    sa.UniqueConstraint('revision_id', name=op.f('uq_structure_details_revision_id'))
    )
    with op.batch_alter_table('structure_details', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structure_details_as_of'), ['as_of'], unique=False)

    op.create_table('structure_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('details_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('parent_key', sa.String(length=40), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('ministry', 'general_staff', 'service', 'military_district', 'directorate', 'border_troops', 'other', name='unit_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('name_ru', sa.String(length=300), nullable=False),
    sa.Column('name_zh', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('hq_location', sa.String(length=200), nullable=False),
    sa.CheckConstraint('parent_key IS NULL OR parent_key <> key', name=op.f('ck_structure_units_not_own_parent')),
    sa.ForeignKeyConstraint(['details_id'], ['structure_details.id'], name=op.f('fk_structure_units_details_id_structure_details'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structure_units')),
    sa.UniqueConstraint('details_id', 'key', name=op.f('uq_structure_units_details_id_key'))
    )
    with op.batch_alter_table('structure_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structure_units_details_id'), ['details_id'], unique=False)

    op.create_table('structure_positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('details_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('minister', 'first_deputy', 'deputy', 'chief_of_general_staff', 'service_commander', 'head_of_directorate', 'cooperation_contact', 'other', name='position_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title_ru', sa.String(length=300), nullable=False),
    sa.Column('title_zh', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['details_id'], ['structure_details.id'], name=op.f('fk_structure_positions_details_id_structure_details'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['structure_units.id'], name=op.f('fk_structure_positions_unit_id_structure_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structure_positions')),
    sa.UniqueConstraint('details_id', 'key', name=op.f('uq_structure_positions_details_id_key'))
    )
    with op.batch_alter_table('structure_positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structure_positions_details_id'), ['details_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_structure_positions_unit_id'), ['unit_id'], unique=False)

    op.create_table('structure_holders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('name_native', sa.String(length=300), nullable=False),
    sa.Column('name_ru', sa.String(length=300), nullable=False),
    sa.Column('name_zh', sa.String(length=300), nullable=False),
    sa.Column('name_latin', sa.String(length=300), nullable=False),
    sa.Column('rank', sa.String(length=200), nullable=False),
    sa.Column('appointed_on', sa.Date(), nullable=True),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.CheckConstraint('left_on IS NULL OR appointed_on IS NULL OR left_on >= appointed_on', name=op.f('ck_structure_holders_dates_ordered')),
    sa.ForeignKeyConstraint(['position_id'], ['structure_positions.id'], name=op.f('fk_structure_holders_position_id_structure_positions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_structure_holders'))
    )
    with op.batch_alter_table('structure_holders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_structure_holders_position_id'), ['position_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('structure_holders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structure_holders_position_id'))

    op.drop_table('structure_holders')
    with op.batch_alter_table('structure_positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structure_positions_unit_id'))
        batch_op.drop_index(batch_op.f('ix_structure_positions_details_id'))

    op.drop_table('structure_positions')
    with op.batch_alter_table('structure_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structure_units_details_id'))

    op.drop_table('structure_units')
    with op.batch_alter_table('structure_details', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_structure_details_as_of'))

    op.drop_table('structure_details')
