"""encrypt totp secrets: the second-factor secrets are stored as Fernet tokens under SECOND_FACTOR_KEY_FILE

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 01:20:00

The key is read as the app reads it (services/totp_keys.py): from the app's configuration under
`flask --app app db upgrade`, else from the environment (SECOND_FACTOR_KEY_FILE). It is needed only when there are
secrets to encrypt or decrypt; downgrading writes them back in the clear.
"""

import sqlalchemy as sa
from alembic import op

from registry.services import totp_keys

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def _cipher():
    current, fallbacks = totp_keys.key_files()
    # Made on first use outside production, as the app does; in production a missing file stops the migration.
    from flask import current_app, has_app_context
    production = has_app_context() and bool(current_app.config.get("PRODUCTION"))
    return totp_keys.cipher(current, fallbacks, production=production)


def _convert(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.totp_secret)
                              .where(users.c.totp_secret.is_not(None))).all()
    if not rows:
        return
    box = _cipher()
    for row in rows:
        connection.execute(users.update().where(users.c.id == row.id)
                           .values(totp_secret=change(row.totp_secret, box)))


def upgrade() -> None:
    # A Fernet token of a 32-character base32 secret is 140 characters.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)
    _convert(totp_keys.encrypt)


def downgrade() -> None:
    _convert(totp_keys.decrypt)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
