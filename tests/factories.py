"""Builders for records in any workflow status, driven through the service functions (never the models)."""

import itertools
from datetime import date

from sqlalchemy import select

from registry.db import db
from registry.models import MemberState, Submission, User
from registry.services import calendars
from registry.services import submissions as svc

# How to reach each status from a new draft: (action, who) steps; "amend_*" statuses are amendments.
PATHS = {
    "draft": [],
    "submitted": [("submit", "filer")],
    "returned": [("submit", "filer"), ("return", "reviewer")],
    "accepted": [("submit", "filer"), ("accept", "reviewer")],
    "withdrawn": [("submit", "filer"), ("withdraw", "filer")],
    "cancellation_requested": [("submit", "filer"), ("accept", "reviewer"), ("request_cancellation", "filer")],
    "cancelled": [("submit", "filer"), ("accept", "reviewer"), ("request_cancellation", "filer"),
                  ("accept_cancellation", "reviewer")],
    "deleted": [("delete", "filer")],
    "amend_draft": [("submit", "filer"), ("accept", "reviewer"), ("amend", "filer")],
    "amend_submitted": [("submit", "filer"), ("accept", "reviewer"), ("amend", "filer"), ("submit", "filer")],
}


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def state(code: str) -> MemberState:
    return db.session.scalar(select(MemberState).where(MemberState.code == code))


def drive(submission: Submission, steps, filer: User, reviewer: User) -> Submission:
    for action, who in steps:
        actor = filer if who == "filer" else reviewer
        svc.perform(actor, submission, action, comment=f"{action} comment")
    return submission


_years = itertools.cycle(range(2030, 2090))  # one calendar per state and year


def make_calendar(filer: User, state_code: str = "KZ", visibility: str = "members", year: int | None = None):
    """A draft annual calendar with one planned exercise (each call takes a new year: one calendar a year)."""
    year = year or next(_years)
    entry = calendars.EntryInput(designation="Tien Shan", exercise_type="command_post",
                                 planned_start=date(year, 5, 10), planned_end=date(year, 5, 20), troops=3000)
    return calendars.create_calendar(filer, state(state_code), year, [entry], visibility=visibility)


def make_submission(filer_id: int, reviewer_id: int, status: str = "draft", state_code: str = "KZ",
                    visibility: str = "members") -> Submission:
    """Inside an app context: an annual calendar of `state_code` brought to `status`, committed."""
    filer, reviewer = user(filer_id), user(reviewer_id)
    submission = make_calendar(filer, state_code, visibility)
    drive(submission, PATHS[status], filer, reviewer)
    db.session.commit()
    return submission


def fill_the_disk_after_first_write(monkeypatch) -> None:
    """Every export file accepts its first write (the header) and then fails as a full disk does (ENOSPC)."""
    from registry.services import exports

    original = exports._Digest.write

    def write(self, data):
        if self.size:
            raise OSError(28, "No space left on device")
        return original(self, data)

    monkeypatch.setattr(exports._Digest, "write", write)
