"""Command line: `flask --app app <command>`. Every data change goes through the services."""

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from registry import migrate
from registry.db import db
from registry.enums import Role
from registry.i18n import _
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
        raise click.ClickException(_("no user with e-mail %(email)s", email=email))
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
        click.echo(_("database at %(revision)s", revision=migrate.current_revision(db.engine)))

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision):
        """Downgrade the schema to REVISION ('base' empties the database)."""
        migrate.downgrade(_url(), revision)
        click.echo(_("database at %(revision)s", revision=migrate.current_revision(db.engine)))

    @db_group.command("current")
    def db_current():
        """Show the schema revision of the database and the newest one available."""
        click.echo(_("current: %(current)s  head: %(head)s", current=migrate.current_revision(db.engine),
                       head=migrate.head_revision(_url())))

    @db_group.command("revision")
    @click.option("-m", "--message", required=True, help="What the change does, e.g. 'visits and answers'.")
    def db_revision(message):
        """Write a new migration from the difference between the models and the database (at head)."""
        from alembic import command

        command.revision(migrate.alembic_config(_url()), message=message, autogenerate=True)
        click.echo(_("review the new file in migrations/versions/ and write its downgrade() by hand if needed"))

    @app.cli.command("seed")
    def seed():
        """Load or update reference data (member states) from seeds/. Safe to run again."""
        counts = state_service.load_state_seeds()
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(MemberState))
        click.echo(_("states: %(created)s created, %(updated)s updated, %(total)s in all",
                     created=counts['created'], updated=counts['updated'], total=total))

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
                raise click.ClickException(_("unknown state code %(state_code)s", state_code=state_code))
            state_id = state.id
        try:
            user = user_service.create_user(CLI, email=email, display_name=display_name, role=role,
                                            state_id=state_id, password=password)
        except ValidationFailed as exc:
            _fail(exc)
        db.session.commit()
        click.echo(_("created %(email)s (%(role)s)", email=user.email, role=user.role.value))

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
        click.echo(_("deactivated %(email)s", email=user.email))

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
        click.echo(_("password reset for %(email)s", email=user.email))

    @app.cli.command("reset-second-factor")
    @click.argument("email")
    def reset_second_factor(email):
        """Remove an account's second factor (lost device) and end its sessions; it enrols again at sign-in."""
        from registry.services import mfa

        user = _user_by_email(email)
        mfa.reset_second_factor(CLI, user)
        db.session.commit()
        click.echo(_("second factor removed for %(email)s", email=user.email))

    @app.cli.command("demo-load")
    @click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
    def demo_load(if_empty):
        """Load demonstration accounts and records (plainly marked as demo). Never run this in production."""
        from registry.demo import DEMO_PASSWORD, DemoDataError, load_demo
        from registry.demo_records import load_demo_records
        from registry.demo_visits import load_demo_visits

        if current_app.config["PRODUCTION"]:
            raise click.ClickException(_("demo data is not loaded in production"))
        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo(_("users exist already: demo data not loaded"))
            return
        try:
            created = load_demo()
        except DemoDataError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        records = load_demo_records() + load_demo_visits()
        db.session.commit()
        click.echo(_("demo records: %(records)s new", records=records))
        click.echo(_("demo accounts (%(accounts)s new), password for all: %(password)s", accounts=len(created),
                     password=DEMO_PASSWORD))
        for user in db.session.scalars(select(User).where(User.is_demo.is_(True)).order_by(User.role, User.email)):
            click.echo(f"  {user.role.value:12} {user.email}")

    @app.cli.command("send-notifications")
    def send_notifications():
        """Deliver queued e-mail from the outbox (needs MAIL_SERVER)."""
        if not current_app.config["MAIL_SERVER"]:
            raise click.ClickException(_("MAIL_SERVER is not set; messages stay in the outbox"))
        sent, failed = notifications.send_pending()
        click.echo(_("sent %(sent)s, failed %(failed)s (failed ones are retried)", sent=sent, failed=failed))


    @app.cli.group("audit")
    def audit_group():
        """The tamper-evident audit log: keys, checkpoints, verification, export."""

    @audit_group.command("keygen")
    @click.option("--force", is_flag=True, help="Replace an existing key (archive its .pub file first).")
    def audit_keygen(force):
        """Create the Ed25519 checkpoint signing key at AUDIT_SIGNING_KEY_FILE (and its public key, .pub)."""
        from pathlib import Path

        from registry.services import audit_checkpoints as checkpoints

        path = current_app.config.get("AUDIT_SIGNING_KEY_FILE")
        if not path:
            raise click.ClickException(_("set AUDIT_SIGNING_KEY_FILE to the path of the key file to create"))
        try:
            checkpoints.generate_key(Path(path), force=force)
        except checkpoints.SigningKeyError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(_("private key: %(path)s (keep it off the database server's backups)", path=path))
        click.echo(_("public key:  %(path)s (give it to the auditors)", path=checkpoints.public_key_path(Path(path))))

    @app.cli.group("second-factor")
    def second_factor_group():
        """The key that encrypts the second-factor secrets (SECOND_FACTOR_KEY_FILE)."""

    @second_factor_group.command("keygen")
    def second_factor_keygen():
        """Create the key file at SECOND_FACTOR_KEY_FILE (refuses to replace one: the secrets need it)."""
        from pathlib import Path

        from registry.services import totp_keys

        path = current_app.config.get("SECOND_FACTOR_KEY_FILE")
        if not path:
            raise click.ClickException(_("set SECOND_FACTOR_KEY_FILE to the path of the key file to create"))
        try:
            totp_keys.generate_key_file(Path(path))
        except FileExistsError as exc:
            raise click.ClickException(_("%(path)s exists already: to change keys, list the old file in "
                                         "SECOND_FACTOR_KEY_FALLBACK_FILES, point SECOND_FACTOR_KEY_FILE at a new "
                                         "one and run `second-factor rotate-key`", path=path)) from exc
        click.echo(_("second-factor key: %(path)s (back it up apart from the database)", path=path))

    @second_factor_group.command("rotate-key")
    def second_factor_rotate_key():
        """Re-encrypt every secret under SECOND_FACTOR_KEY_FILE; the fallback keys can be removed afterwards."""
        from registry.services import mfa, totp_keys

        try:
            count = mfa.reencrypt_all_secrets()
        except totp_keys.SecondFactorKeyError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(_("%(count)d second-factor secrets re-encrypted under the current key", count=count))

    @audit_group.command("checkpoint")
    @click.option("--if-changed", is_flag=True, help="Sign only when the log grew since the last checkpoint (cron).")
    def audit_checkpoint(if_changed):
        """Sign the chain's current head (origin, seq, hash, time). Meant for cron, e.g. hourly."""
        from registry.services import audit_checkpoints as checkpoints

        try:
            cp = checkpoints.sign_checkpoint(force=not if_changed)
        except checkpoints.SigningKeyError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        if cp is None:
            click.echo(_("no new entries since the last checkpoint"))
            return
        db.session.commit()
        click.echo(_("checkpoint: seq %(seq)s hash %(head_hash)s at %(signed_at)s",
                     seq=cp.seq, head_hash=cp.head_hash, signed_at=cp.signed_at))

    @audit_group.command("verify")
    def audit_verify():
        """Recompute the chain, check it is gapless and that every signed checkpoint is a prefix of it."""
        from registry.services import audit_checkpoints as checkpoints

        try:
            result = checkpoints.verify_database()
        except checkpoints.SigningKeyError as exc:
            raise click.ClickException(str(exc)) from exc
        for line in result.lines():
            click.echo(line, err=not result.ok)
        if not result.ok:
            raise SystemExit(1)

    @audit_group.command("export-log")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    def audit_export_log(file):
        """Write the log, its checkpoints and the public key as JSON Lines (verify with tools/verify_audit.py)."""
        from registry.services import audit_checkpoints as checkpoints

        try:
            out = open(file, "w", encoding="utf-8")  # opened before the export is recorded
        except OSError as exc:
            raise click.ClickException(_("cannot write %(file)s: %(strerror)s",
                                         file=file, strerror=exc.strerror)) from exc
        with out:
            try:
                cp = checkpoints.prepare_export(CLI, purpose=f"export to {file}"[:200])
            except checkpoints.SigningKeyError as exc:
                db.session.rollback()
                raise click.ClickException(str(exc)) from exc
            db.session.commit()
            count = checkpoints.write_export(out, cp)
        click.echo(_("%(count)s entries and their checkpoints written to %(file)s", count=count, file=file))
        click.echo(_("verify with: python3 tools/verify_audit.py FILE --public-key <the registry's public key>"))

    @app.cli.group("notifications")
    def notifications_group():
        """Notifications: deliver the outbox, queue reminders before due dates (both meant for cron)."""

    @notifications_group.command("send")
    @click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100_000))
    def notifications_send(limit):
        """E-mail the due messages of the outbox (needs MAIL_SERVER); failures are retried with backoff."""
        if not current_app.config["MAIL_SERVER"]:
            raise click.ClickException(_("MAIL_SERVER is not set; messages stay in the outbox and the in-app lists"))
        sent, failed = notifications.send_pending(limit=limit)
        click.echo(_("sent %(sent)s, failed %(failed)s (failed ones are retried later, with backoff)",
                     sent=sent, failed=failed))

    @notifications_group.command("remind")
    @click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Pretend today is this date.")
    def notifications_remind(today):
        """Queue the reminders due today (annual calendars, and every source registered with @reminder)."""
        queued = notifications.remind(today.date() if today else None)
        db.session.commit()
        click.echo(_("%(queued)s reminder(s) queued", queued=queued))

    @app.cli.command("export")
    @click.argument("dataset")
    @click.option("--format", "fmt", default="csv", show_default=True,
                  type=click.Choice(["csv", "json", "jsonl", "xlsx"]))
    @click.option("--as", "as_email", required=True, help="The account whose view is exported (its scoping).")
    @click.option("--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
                  help="The file to write; a manifest FILE.sha256 is written beside it.")
    @click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
                  help="A filter of the dataset's list, e.g. --filter state=KZ (repeatable).")
    def export_command(dataset, fmt, as_email, output, filters):
        """Export a dataset as its list shows it to an account, for scheduled archiving.

        The file is written under a temporary name and renamed into place only when complete, with a
        sha256sum-style manifest beside it: an interrupted export never leaves a half file under its name."""
        import os
        from pathlib import Path

        from werkzeug.datastructures import MultiDict

        from registry.services import exports
        from registry.services.errors import NotFound, PermissionDenied

        user = db.session.scalar(select(User).where(func.lower(User.email) == as_email.strip().lower()))
        if user is None or not user.active:
            raise click.ClickException(_("no active account %(as_email)s", as_email=as_email))
        args = MultiDict()
        for item in filters:
            key, sep, value = item.partition("=")
            if not sep:
                raise click.ClickException(_("--filter %(item)s: write KEY=VALUE", item=item))
            args.add(key, value)
        try:
            prepared = exports.prepare(user, dataset, fmt, args)
        except NotFound as exc:
            names = ", ".join(sorted(d.name for d in exports.datasets_for(user)))
            raise click.ClickException(_("no dataset %(dataset)s; this account may export: %(names)s",
                                         dataset=dataset, names=names)) from exc
        except PermissionDenied as exc:
            raise click.ClickException(_("%(as_email)s may not export %(dataset)s",
                                         as_email=as_email, dataset=dataset)) from exc
        except ValidationFailed as exc:
            raise click.ClickException("; ".join(m for ms in exc.errors.values() for m in ms)) from exc
        target = Path(output)
        partial = target.with_name(f".{target.name}.part")
        total = prepared.count()
        try:
            with partial.open("w+b") as out:
                with click.progressbar(length=total, label=f"{dataset} ({total} rows)") as bar:
                    prepared = exports.with_progress(prepared, bar.update)
                    result = exports.write(user, dataset, fmt, prepared, out)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            db.session.rollback()
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        Path(f"{target}.sha256").write_text(f"{result.sha256}  {target.name}\n", encoding="utf-8")
        db.session.commit()
        click.echo(_("%(rows)s rows, %(size)s bytes, sha256 %(sha256)s -> %(target)s",
                     rows=result.rows, size=result.size, sha256=result.sha256, target=target))

    @app.cli.group("export-jobs")
    def export_jobs_group():
        """Export jobs: run the queued ones (a service in production; `make run`'s server does it itself)."""

    @export_jobs_group.command("work")
    @click.option("--once", is_flag=True, help="Run what is queued now, then stop (for cron).")
    @click.option("--seconds", default=5, show_default=True, type=click.IntRange(1, 3600),
                  help="Pause between rounds when the queue is empty.")
    def export_jobs_work(once, seconds):
        """Take queued export jobs one at a time and write their files; several workers may run at once."""
        import time

        from registry.services import export_jobs

        while True:
            export_jobs.remove_expired()
            ran = export_jobs.run_pending()
            if ran:
                click.echo(_("%(ran)s export job(s) done", ran=ran))
            if once:
                return
            time.sleep(seconds)

    @app.cli.command("restore-bundle")
    @click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
    @click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False),
                  help="The Ed25519 public key the bundle must be signed with (default: this registry's).")
    def restore_bundle(bundle, public_key):
        """Load an auditor's export bundle into an empty, migrated registry: the same records, versions and audit
        chain (the restore test of a backup). The bundle is verified first; nothing is loaded if it fails."""
        import importlib.util
        import tempfile

        from registry.exports import tables
        from registry.services import audit_checkpoints

        spec = importlib.util.spec_from_file_location("verify_audit", audit_checkpoints.VERIFIER)
        verifier = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(verifier)
        if public_key is None:
            from cryptography.hazmat.primitives import serialization

            pem = audit_checkpoints.public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo)
            with tempfile.NamedTemporaryFile("wb", suffix=".pub", delete=False) as handle:
                handle.write(pem)
            public_key = handle.name
        if verifier.verify_bundle(bundle, public_key, None) != 0:
            raise click.ClickException(_("the bundle does not verify: nothing was loaded"))
        files = verifier.read_bundle(bundle)
        try:
            counts = tables.restore(files)
            db.session.flush()
            result = audit_checkpoints.verify_database()
        except tables.RestoreError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        if not result.ok:
            db.session.rollback()
            raise click.ClickException(_("the restored audit chain does not verify: %(message)s",
                                         message=result.message))
        db.session.commit()
        click.echo(_("restored %(rows)s rows in %(tables)s tables; audit chain verified", rows=sum(counts.values()),
                     tables=len(counts)))
