"""Command line: `flask --app app <command>`. Every data change goes through the services."""

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from registry import migrate
from registry.db import db
from registry.enums import Role
from registry.models import MemberState, User
from registry.services import notifications
from registry.services import states as state_service
from registry.services import users as user_service
from registry.services.actors import CLI
from registry.services.errors import ValidationFailed


def _url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def _fail(exc: ValidationFailed) -> None:
    db.session.rollback()
    for field, messages in exc.errors.items():
        for message in messages:
            click.echo(f"{field or 'error'}: {message}", err=True)
    raise SystemExit(2)


def _user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    return user


def register_cli(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """Database schema (Alembic migrations)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision):
        """Create or upgrade the database schema."""
        migrate.upgrade(_url(), revision)
        click.echo(f"database at {migrate.current_revision(db.engine)}")

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision):
        """Downgrade the schema to REVISION ('base' empties the database)."""
        migrate.downgrade(_url(), revision)
        click.echo(f"database at {migrate.current_revision(db.engine)}")

    @db_group.command("current")
    def db_current():
        """Show the schema revision of the database and the newest one available."""
        click.echo(f"current: {migrate.current_revision(db.engine)}  head: {migrate.head_revision(_url())}")

    @db_group.command("revision")
    @click.option("-m", "--message", required=True, help="What the change does, e.g. 'visits and answers'.")
    def db_revision(message):
        """Write a new migration from the difference between the models and the database (at head)."""
        from alembic import command

        command.revision(migrate.alembic_config(_url()), message=message, autogenerate=True)
        click.echo("review the new file in migrations/versions/ and write its downgrade() by hand if needed")

    @app.cli.command("seed")
    def seed():
        """Load or update reference data (member states) from seeds/. Safe to run again."""
        counts = state_service.load_state_seeds()
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(MemberState))
        click.echo(f"states: {counts['created']} created, {counts['updated']} updated, {total} in all")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", "display_name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--state", "state_code", help="ISO code of the officer's state, e.g. KZ")
    @click.password_option(help="At least 12 characters (asked for when not given)")
    def create_user(email, display_name, role, state_code, password):
        """Create an account."""
        state_id = None
        if state_code:
            state = db.session.scalar(select(MemberState).where(MemberState.code == state_code.upper()))
            if state is None:
                raise click.ClickException(f"unknown state code {state_code}")
            state_id = state.id
        try:
            user = user_service.create_user(CLI, email=email, display_name=display_name, role=role,
                                            state_id=state_id, password=password)
        except ValidationFailed as exc:
            _fail(exc)
        db.session.commit()
        click.echo(f"created {user.email} ({user.role.value})")

    @app.cli.command("deactivate-user")
    @click.argument("email")
    def deactivate_user(email):
        """Deactivate an account and end its sessions."""
        user = _user_by_email(email)
        try:
            user_service.deactivate_user(CLI, user)
        except ValidationFailed as exc:
            _fail(exc)
        db.session.commit()
        click.echo(f"deactivated {user.email}")

    @app.cli.command("reset-password")
    @click.argument("email")
    @click.password_option(help="At least 12 characters (asked for when not given)")
    def reset_password(email, password):
        """Set a new password for an account and end its sessions."""
        user = _user_by_email(email)
        try:
            user_service.reset_password(CLI, user, password)
        except ValidationFailed as exc:
            _fail(exc)
        db.session.commit()
        click.echo(f"password reset for {user.email}")

    @app.cli.command("reset-second-factor")
    @click.argument("email")
    def reset_second_factor(email):
        """Remove an account's second factor (lost device) and end its sessions; it enrols again at sign-in."""
        from registry.services import mfa

        user = _user_by_email(email)
        mfa.reset_second_factor(CLI, user)
        db.session.commit()
        click.echo(f"second factor removed for {user.email}")

    @app.cli.command("demo-load")
    @click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
    def demo_load(if_empty):
        """Load demonstration accounts and records (plainly marked as demo). Never run this in production."""
        from registry.demo import DEMO_PASSWORD, DemoDataError, load_demo
        from registry.demo_records import load_demo_records
        from registry.demo_visits import load_demo_visits

        if current_app.config["PRODUCTION"]:
            raise click.ClickException("demo data is not loaded in production")
        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo("users exist already: demo data not loaded")
            return
        try:
            created = load_demo()
        except DemoDataError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        records = load_demo_records() + load_demo_visits()
        db.session.commit()
        click.echo(f"demo records: {records} new")
        click.echo(f"demo accounts ({len(created)} new), password for all: {DEMO_PASSWORD}")
        for user in db.session.scalars(select(User).where(User.is_demo.is_(True)).order_by(User.role, User.email)):
            click.echo(f"  {user.role.value:12} {user.email}")

    @app.cli.command("send-notifications")
    def send_notifications():
        """Deliver queued e-mail from the outbox (needs MAIL_SERVER)."""
        if not current_app.config["MAIL_SERVER"]:
            raise click.ClickException("MAIL_SERVER is not set; messages stay in the outbox")
        sent, failed = notifications.send_pending()
        click.echo(f"sent {sent}, failed {failed} (failed ones are retried)")

