"""audit hash chain, checkpoints, append-only triggers; notification preferences and outbox retries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 22:00:00

The upgrade numbers the existing audit entries in id order and chains them (the same hash as the application,
registry/services/audit_chain.py), then installs triggers that refuse UPDATE and DELETE on audit_log and
audit_checkpoints (and TRUNCATE on PostgreSQL).

PostgreSQL: run the application under a role that may only add to and read the audit tables; the triggers then
stop mistakes and the grants stop the application itself (only the owner can drop a trigger). As the owner:

    CREATE ROLE registry_app LOGIN PASSWORD '...';
    GRANT CONNECT ON DATABASE registry TO registry_app;
    GRANT USAGE ON SCHEMA public TO registry_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO registry_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO registry_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_checkpoints FROM registry_app;  -- INSERT and SELECT only
    -- audit_head keeps UPDATE: appends move it; verify compares it with the log.

and run migrations as the owner. A superuser can still bypass all of this (e.g. session_replication_role =
replica, which the test suite uses to empty the log between tests); signed checkpoints kept outside the database
are what detects that.
"""

from alembic import op
import sqlalchemy as sa

from registry.db import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER {table}_no_{op_name} BEFORE {op_name.upper()} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_name.upper()} refused'); END"
    for table in ("audit_log", "audit_checkpoints") for op_name in ("update", "delete")
]
PG_FUNCTION = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$
"""
PG_TRIGGERS = [
    stmt
    for table in ("audit_log", "audit_checkpoints")
    for stmt in (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    )
]


def _backfill(bind) -> tuple[int, str]:
    from registry.services.audit_chain import entry_hash

    log = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('seq', sa.BigInteger),
                   sa.column('prev_hash', sa.String), sa.column('hash', sa.String),
                   sa.column('occurred_at', UTCDateTime()), sa.column('actor_id', sa.Integer),
                   sa.column('actor_label', sa.String), sa.column('actor_role', sa.String),
                   sa.column('action', sa.String), sa.column('object_type', sa.String),
                   sa.column('object_id', sa.String), sa.column('state_code', sa.String),
                   sa.column('changes', sa.JSON), sa.column('outcome', sa.String), sa.column('ip', sa.String))
    rows = bind.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    seq, head = 0, GENESIS
    for row in rows:
        seq += 1
        fields = dict(row, seq=seq)
        digest = entry_hash(head, fields)
        bind.execute(log.update().where(log.c.id == row['id']).values(seq=seq, prev_hash=head, hash=digest))
        head = digest
    return seq, head


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('origin', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.String(length=32), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )
    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_checkpoints_seq'), ['seq'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('muted', sa.JSON(), nullable=False),
    sa.Column('paused_until', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preferences'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email_skipped', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=160), nullable=True))
        batch_op.create_index('ix_outbox_due', ['sent_at', 'next_attempt_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_dedupe_key'), ['dedupe_key'])

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    seq, head = _backfill(bind)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_seq'), ['seq'])
    op.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :seq, :hash)").bindparams(
        seq=seq, hash=head))

    if bind.dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for table in ('audit_log', 'audit_checkpoints'):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    else:
        for table in ('audit_log', 'audit_checkpoints'):
            for op_name in ('update', 'delete'):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op_name}")

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_dedupe_key'), type_='unique')
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_column('dedupe_key')
        batch_op.drop_column('read_at')
        batch_op.drop_column('email_skipped')
        batch_op.drop_column('claim_token')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('next_attempt_at')

    op.drop_table('notification_preferences')
    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_checkpoints_seq'))
    op.drop_table('audit_checkpoints')
    op.drop_table('audit_head')
