"""Notifications: queued in the outbox in the caller's transaction, e-mailed after commit, listed in the app.

Every queued message is the recipient's in-app notification, so nothing depends on a mail server. Whether it is
also e-mailed depends on the recipient's preferences (categories muted, a pause): a muted or paused message is
marked `email_skipped` and stays in the list only.

Delivery (`send_pending`, run by `flask --app app notifications send` from cron) is at-least-once with a narrow
window, never a blind retry:
1. a sender *claims* a message in its own committed UPDATE (claimed_at, claim_token, attempts + 1), guarded so
   that only one sender can win it; others skip it;
2. it talks to SMTP;
3. it records the outcome in another committed UPDATE: sent_at, or the error and `next_attempt_at` (exponential
   backoff: 1, 2, 4 ... minutes, at most 6 hours; MAX_ATTEMPTS tries).
SMTP down means the message waits and is retried; a second sender never sends a claimed message. Exactly-once is
not achievable with SMTP: if the process dies after the server accepted the message but before step 3 commits,
the claim expires after CLAIM_TIMEOUT and the message is sent again. Each message carries a stable Message-ID
(`<outbox-ID@...>`) so a receiving system can drop that rare duplicate.

Reminders before due dates come from `remind(today)` (`flask --app app notifications remind`, daily from cron):
every function registered with `@reminder` returns the reminders due today; each is queued once (dedupe_key).
"""

import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, or_, select, update

from registry.db import db, utcnow
from registry.enums import RecordType, Role, SubmissionStatus
from registry.i18n import _, _l
from registry.models import CalendarDetails, NotificationPreference, OutboxMessage, Revision, Submission, User
from registry.services import audit
from registry.services.permissions import require
from registry.services.validation import Errors

MAX_ATTEMPTS = 10
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
CLAIM_TIMEOUT = timedelta(minutes=15)
PAUSE_MAX_DAYS = 366

# Which kinds of message a user may turn off, by category. Kinds are matched by prefix; record types built later
# add their own entries (e.g. "visit." -> "visits"). Kinds in no category (account creation, password reset)
# are always e-mailed: they concern the account's security.
CATEGORIES: dict[str, object] = {
    "review": _l("Submissions awaiting review (Secretariat)"),
    "decisions": _l("Decisions and shared comments on my state's records"),
    "inquiries": _l("Inquiries about notified activities and their answers"),
    "visits": _l("Invitations to visits and their changes"),
    "reminders": _l("Reminders before due dates"),
}
KIND_CATEGORIES: list[tuple[str, str]] = [
    ("submission.submit", "review"),
    ("submission.request_cancellation", "review"),
    ("submission.", "decisions"),
    ("inquiry.", "inquiries"),
    ("visit.", "visits"),
    ("visit_request.", "visits"),
    ("reminder.", "reminders"),
]


def category_of(kind: str) -> str | None:
    for prefix, category in KIND_CATEGORIES:
        if kind == prefix or (prefix.endswith(".") and kind.startswith(prefix)):
            return category
    return None


def preferences_of(user) -> NotificationPreference | None:
    return db.session.get(NotificationPreference, user.id) if user.id is not None else None


def _skip_reason(recipient, kind: str, today: date) -> str | None:
    category = category_of(kind)
    if category is None:
        return None
    prefs = preferences_of(recipient)
    if prefs is None:
        return None
    if category in (prefs.muted or []):
        return "disabled"
    if prefs.paused_until is not None and today <= prefs.paused_until:
        return "paused"
    return None


def in_language_of(recipient, text) -> str:
    """A (lazy) translated text rendered in the recipient's language, whoever caused the message."""
    locale = getattr(recipient, "locale", None) or current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    with force_locale(locale):
        return str(text)


def queue(recipient, kind: str, subject, body, context: dict | None = None,
          dedupe_key: str | None = None) -> OutboxMessage | None:
    """Queue one message for one user in the caller's transaction. With `dedupe_key`, at most once ever
    (returns None when it was queued before). Subject and body given as lazy strings (`_l`) are written in the
    recipient's language."""
    if dedupe_key is not None:
        existing = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    message = OutboxMessage(
        recipient_id=recipient.id,
        recipient_email=recipient.email,
        kind=kind,
        subject=in_language_of(recipient, subject)[:200],
        body=in_language_of(recipient, body),
        context=context,
        email_skipped=_skip_reason(recipient, kind, utcnow().date()),
        dedupe_key=dedupe_key,
    )
    db.session.add(message)
    return message


# --- delivery -------------------------------------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 1, 2, 4, 8 ... minutes, at most BACKOFF_MAX."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _message_id(message: OutboxMessage) -> str:
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost"
    return f"<outbox-{message.id}@{domain}>"


def _deliver(message: OutboxMessage) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.recipient_email
    email["Subject"] = message.subject
    email["Message-ID"] = _message_id(message)
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())  # verify the server certificate
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def _due(now: datetime):
    return (
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.email_skipped.is_(None),
        OutboxMessage.attempts < MAX_ATTEMPTS,
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - CLAIM_TIMEOUT),
    )


def _claim(message_id: int, now: datetime) -> str | None:
    """Take the message for this sender in a committed update; None if another sender has it or it is done."""
    token = secrets.token_hex(16)
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *_due(now))
        .values(claimed_at=now, claim_token=token, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None


def send_pending(limit: int = 100, now: datetime | None = None) -> tuple[int, int]:
    """Deliver due messages; returns (sent, failed). Commits around each message (this is a job, not a service
    function). Does nothing without MAIL_SERVER: messages then wait in the outbox and the in-app list."""
    if not current_app.config["MAIL_SERVER"]:
        return 0, 0
    now = now or utcnow()
    ids = list(db.session.scalars(select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.id)
                                  .limit(limit)))
    db.session.commit()
    sent = failed = 0
    for message_id in ids:
        token = _claim(message_id, now)
        if token is None:
            continue
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        mine = (OutboxMessage.id == message_id) & (OutboxMessage.claim_token == token)
        try:
            _deliver(message)
        except (OSError, smtplib.SMTPException) as exc:
            db.session.execute(update(OutboxMessage).where(mine).values(
                last_error=str(exc)[:500] or exc.__class__.__name__, claimed_at=None,
                next_attempt_at=now + backoff(message.attempts)).execution_options(synchronize_session=False))
            failed += 1
        else:
            db.session.execute(update(OutboxMessage).where(mine).values(
                sent_at=utcnow(), last_error=None, claimed_at=None).execution_options(synchronize_session=False))
            sent += 1
        db.session.commit()
    return sent, failed


# --- the in-app list and preferences --------------------------------------------------------------------------------

def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.recipient_id == user.id, OutboxMessage.read_at.is_(None))) or 0


def mark_all_read(actor, user) -> int:
    require(actor, "notifications.own", user)
    now = utcnow()
    count = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.recipient_id == user.id, OutboxMessage.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if count:
        audit.record("notifications.mark_read", actor=actor, object_type="user", object_id=user.id,
                     changes={"marked_read": [0, count]})
    return count


def set_preferences(actor, user, *, wanted: Iterable[str], paused_until: date | None,
                    today: date | None = None) -> NotificationPreference:
    """Which categories `user` wants e-mailed (the others are muted), and a pause until a date (inclusive)."""
    require(actor, "notifications.own", user)
    today = today or utcnow().date()
    errors = Errors()
    wanted = set(wanted)
    if wanted - set(CATEGORIES):
        errors.add("wanted", _("Choose among the listed kinds of notification."))
    muted = sorted(set(CATEGORIES) - wanted)
    if paused_until is not None and not today <= paused_until <= today + timedelta(days=PAUSE_MAX_DAYS):
        errors.add("paused_until", _("Choose a date from today to one year ahead, or leave it empty."))
    errors.raise_if_any()
    prefs = preferences_of(user)
    if prefs is None:
        prefs = NotificationPreference(user_id=user.id, muted=[], paused_until=None)
        db.session.add(prefs)
    fields = ["muted", "paused_until"]
    before = audit.snapshot(prefs, fields)
    prefs.muted, prefs.paused_until = muted, paused_until
    changes = audit.diff(before, audit.snapshot(prefs, fields))
    if changes:
        audit.record("notifications.preferences", actor=actor, object_type="user", object_id=user.id,
                     changes=changes)
    return prefs


# --- reminders ------------------------------------------------------------------------------------------------------

@dataclass
class Reminder:
    recipients: list[User]
    kind: str  # "reminder.<what>"
    subject: str
    body: str
    dedupe_key: str  # one reminder per key, ever: include the record, the due date and the window
    context: dict = field(default_factory=dict)


ReminderSource = Callable[[date], Iterable[Reminder]]
REMINDERS: dict[str, ReminderSource] = {}
# Reminders go out in windows before a due date: the first run inside a window sends it, later runs do not.
WINDOWS: tuple[tuple[int, str], ...] = ((30, "30d"), (7, "7d"), (1, "1d"))


def reminder(name: str) -> Callable[[ReminderSource], ReminderSource]:
    """Register a source of reminders: `@reminder("visit_answers") def f(today) -> Iterable[Reminder]`."""

    def register(source: ReminderSource) -> ReminderSource:
        REMINDERS[name] = source
        return source

    return register


def window(days_left: int) -> str | None:
    """The reminder window `days_left` falls in (e.g. "7d" for 2 to 7 days before), None if none."""
    if days_left < 0:
        return None
    for limit, code in reversed(WINDOWS):
        if days_left <= limit:
            return code
    return None


def remind(today: date | None = None) -> int:
    """Queue every registered reminder due `today` (once each); returns how many messages were queued."""
    today = today or utcnow().date()
    queued = 0
    for source in REMINDERS.values():
        for item in source(today):
            for user in item.recipients:
                if queue(user, item.kind, item.subject, item.body, {**item.context, "reminder": item.dedupe_key},
                         dedupe_key=f"{item.dedupe_key}:{user.id}"[:160]):
                    queued += 1
    return queued


def officers_of(*state_ids: int) -> list[User]:
    """The active accounts of these states (their liaison officers): who is told about a state's records."""
    if not state_ids:
        return []
    return list(db.session.scalars(select(User).where(User.state_id.in_(state_ids), User.active.is_(True))
                                   .order_by(User.id)))


def _officers_by_state() -> dict[int, list[User]]:
    officers: dict[int, list[User]] = {}
    for user in db.session.scalars(select(User).where(User.role == Role.OFFICER, User.active.is_(True),
                                                      User.state_id.is_not(None)).order_by(User.id)):
        officers.setdefault(user.state_id, []).append(user)
    return officers


FILED = (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED, SubmissionStatus.CANCELLATION_REQUESTED)


@reminder("annual_calendar")
def calendar_reminders(today: date) -> list[Reminder]:
    """Next year's annual calendar, due on the threshold profile's date (15 November in the Vienna Document
    benchmark), for every state with officers that has not filed it yet."""
    from registry.services.calendars import due_date_for

    year = today.year + 1
    due = due_date_for(year)
    code = window((due - today).days) if due else None
    if code is None:
        return []
    filed = set(db.session.scalars(
        select(Submission.state_id).join(Revision, Revision.submission_id == Submission.id)
        .join(CalendarDetails, CalendarDetails.revision_id == Revision.id)
        .where(Submission.record_type == RecordType.CALENDAR, Submission.status.in_(FILED),
               CalendarDetails.year == year)
    ))
    return [
        Reminder(recipients=officers, kind="reminder.calendar",
                 subject=_l("Annual calendar %(year)d is due on %(due)s", year=year, due=due.isoformat()),
                 body=_l("Your state's annual calendar of notifiable activities for %(year)d is due on %(due)s. "
                        "It has not been submitted yet.", year=year, due=due.isoformat()),
                 dedupe_key=f"calendar:{state_id}:{year}:{code}", context={"year": year, "due": due.isoformat()})
        for state_id, officers in _officers_by_state().items() if state_id not in filed
    ]
