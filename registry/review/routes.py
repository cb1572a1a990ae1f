"""The Secretariat's review queue: what waits for a decision, oldest first, and the overdue inquiries."""

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, render_template
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from registry.db import db, utcnow
from registry.enums import SubmissionStatus
from registry.models import (
    ExerciseDetails,
    Inquiry,
    MemberState,
    Revision,
    Submission,
    SubmissionEvent,
    VisitDetails,
)
from registry.services import inquiries
from registry.services.permissions import can
from registry.services.scoping import visible
from registry.web import requires

bp = Blueprint("review", __name__, url_prefix="/review")

WAITING = (SubmissionStatus.SUBMITTED, SubmissionStatus.CANCELLATION_REQUESTED)
# The actions that put a record in the queue; the latest one dates its wait (a resubmission starts anew).
QUEUEING_ACTIONS = ("submit", "request_cancellation")
QUEUE_MAX = 500


@dataclass(frozen=True)
class QueueItem:
    submission: Submission
    revision: Revision  # the version to judge (for a cancellation request: the accepted one)
    details: ExerciseDetails | None  # exercise notifications only
    waiting_since: datetime
    age_days: int
    warnings: int
    visit: VisitDetails | None = None  # visit offers only


def _waiting_since():
    latest = (
        select(func.max(SubmissionEvent.occurred_at))
        .where(SubmissionEvent.submission_id == Submission.id, SubmissionEvent.action.in_(QUEUEING_ACTIONS))
        .correlate(Submission)
        .scalar_subquery()
    )
    return func.coalesce(latest, Submission.submitted_at)


def queue_items(user, now: datetime | None = None) -> tuple[list[QueueItem], bool]:
    """Every record of every type awaiting a decision, the longest-waiting first; and whether it was cut."""
    now = now or utcnow()
    since = _waiting_since().label("waiting_since")
    stmt = (
        visible(user, Submission)
        .where(Submission.status.in_([s.value for s in WAITING]))
        .join(Revision, (Revision.submission_id == Submission.id)
              & (Revision.number == Submission.current_revision_no))
        .outerjoin(ExerciseDetails, ExerciseDetails.revision_id == Revision.id)
        .outerjoin(VisitDetails, VisitDetails.revision_id == Revision.id)
        .add_columns(Revision, ExerciseDetails, since, VisitDetails)
        .options(joinedload(Submission.state), joinedload(Submission.submitted_by))
        .order_by(since.asc(), Submission.id.asc())
        .limit(QUEUE_MAX + 1)
    )
    items = []
    for submission, revision, details, waiting_since, visit in db.session.execute(stmt):
        waiting_since = waiting_since or submission.created_at
        warnings = sum(1 for f in revision.findings or [] if isinstance(f, dict) and f.get("severity") == "warning")
        items.append(QueueItem(submission, revision, details, waiting_since, max((now - waiting_since).days, 0),
                               warnings, visit))
    return items[:QUEUE_MAX], len(items) > QUEUE_MAX


def overdue_inquiries() -> list[Inquiry]:
    found = inquiries.overdue()
    # Load the records and states they name in two queries rather than two per inquiry.
    ids = {i.submission_id for i in found}
    if ids:
        db.session.scalars(select(Submission).where(Submission.id.in_(ids)).options(joinedload(Submission.state)))\
            .all()
        db.session.scalars(select(MemberState).where(MemberState.id.in_({i.asking_state_id for i in found}))).all()
    return found


@bp.route("/")
@requires("submission.review_queue")
def queue():
    now = utcnow()
    items, truncated = queue_items(current_user, now)
    overdue = overdue_inquiries() if can(current_user, "inquiry.overdue_list") else []
    return render_template("review/queue.html", items=items, truncated=truncated, queue_max=QUEUE_MAX,
                           overdue=overdue, now=now, locale=str(get_locale() or "en"))
