"""What the forms of every record type share: which states a user may file for, the form language."""

from flask import abort
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy.orm import selectinload

from registry.db import db, utcnow
from registry.forms import LANGUAGE_CHOICES
from registry.models import MemberState
from registry.services import submissions as workflow
from registry.services.permissions import require
from registry.services.scoping import visible
from registry.services.validation import INT32_MAX


def reader_locale() -> str:
    return str(get_locale() or "en")


def as_id(value) -> int | None:
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return None
    return ident if 0 < ident <= INT32_MAX else None


def all_states() -> list[MemberState]:
    return list(db.session.scalars(
        visible(current_user, MemberState).options(selectinload(MemberState.status_periods))
    ))


def filing_states(states: list[MemberState]) -> list[MemberState]:
    """Members and partners today, in the reader's language order."""
    today = utcnow().date()
    locale = reader_locale()
    return sorted((s for s in states if s.status_on(today) in workflow.FILING_STATUSES),
                  key=lambda s: s.name(locale))


def default_language() -> str:
    """The form's original language: the reader's, when it is one of the registry's."""
    locale = reader_locale()
    return locale if locale in dict(LANGUAGE_CHOICES) else "ru"


def check_may_file(on_behalf: bool, candidates: list[MemberState]) -> None:
    """Officers file for their own state; the Secretariat on a state's behalf. Others get 403."""
    if on_behalf:
        require(current_user, "submission.file", candidates[0] if candidates else None)
    else:
        require(current_user, "submission.file", current_user.state)
        if current_user.state is None:  # an officer account without a state cannot file anything
            abort(403)
