"""Queue notifications in the outbox, in the caller's transaction; `send_pending` delivers after commit.

A failed delivery stays in the outbox and is retried: SMTP being down never fails a submission.
"""

import smtplib
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from registry.db import db, utcnow
from registry.models import OutboxMessage

MAX_ATTEMPTS = 10


def queue(recipient, kind: str, subject: str, body: str, context: dict | None = None) -> OutboxMessage:
    message = OutboxMessage(
        recipient_id=recipient.id,
        recipient_email=recipient.email,
        kind=kind,
        subject=subject[:200],
        body=body,
        context=context,
    )
    db.session.add(message)
    return message


def _deliver(message: OutboxMessage) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.recipient_email
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_STARTTLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def send_pending(limit: int = 100) -> tuple[int, int]:
    """Deliver queued messages; returns (sent, failed). Commits after each message."""
    if not current_app.config["MAIL_SERVER"]:
        return 0, 0
    pending = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for message in pending:
        message.attempts += 1
        try:
            _deliver(message)
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = str(exc)[:500]
            failed += 1
        else:
            message.sent_at = utcnow()
            message.last_error = None
            sent += 1
        db.session.commit()
    return sent, failed
