"""The list of exercise notifications, the year view and the iCalendar feed.

All three read through services.exercise_queries, so none shows more than `visible()` allows, and each
shows the version the reader may read (the accepted one for other states).
"""

import calendar as month_names
from dataclasses import replace
from datetime import date, timedelta

import icalendar
from flask import Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from registry.db import db, utcnow
from registry.enums import ExerciseType, Role, Visibility
from registry.exercises import bp
from registry.i18n import _
from registry.models import MemberState, Submission
from registry.page_cache import cached_page
from registry.services.exercise_queries import (
    LISTED_STATUSES,
    MAX_YEAR,
    MIN_YEAR,
    SORTS,
    ExerciseFilters,
    as_row,
    clean_sort,
    exercise_query,
    exercise_rows,
    parse_filters,
)
from registry.services.permissions import POLICY
from registry.services.scoping import visible
from registry.web import login_required

# Without a date range or year, the feed starts a year back: calendar clients poll it for good.
FEED_LOOKBACK_DAYS = 365
FEED_MAX_EVENTS = 5000


def _locale() -> str:
    return str(get_locale() or "en")


def _may_file() -> bool:
    return current_user.role in POLICY["submission.file"].roles


@bp.route("/")
@login_required
def index():
    return cached_page(_list_page)


def _list_page() -> str:
    """The list for the current reader and query string (kept in the page cache: registry/page_cache.py)."""
    parsed = parse_filters(request.args)
    sort = clean_sort(request.args.get("sort"))
    after = request.args.get("after") or None
    page = exercise_rows(current_user, parsed.filters, after=after, sort=sort)
    problems = list(parsed.problems)
    if page.cursor_ignored:
        problems.append(_("The page link was not valid: this is the first page."))
    states = db.session.scalars(visible(current_user, MemberState).order_by(MemberState.code)).all()
    return render_template(
        "exercises/index.html",
        page=page,
        filters=parsed.filters,
        filter_args=parsed.filters.as_args(),
        problems=problems,
        sort=sort,
        sorts=SORTS,
        on_later_page=bool(after) and not page.cursor_ignored,
        states=states,
        types=list(ExerciseType),
        statuses=LISTED_STATUSES,
        locale=_locale(),
        may_file=_may_file(),
        this_year=utcnow().year,
    )


@bp.route("/year/<int:year>")
@login_required
def year(year: int):
    if not MIN_YEAR <= year <= MAX_YEAR:
        abort(404)
    return cached_page(lambda: _year_page(year))


def _year_page(year: int) -> str:
    """Every exercise of the year the reader may see, by month (kept in the page cache like the list)."""
    rows = exercise_rows(current_user, ExerciseFilters(year=year), sort="start_asc", limit=None).rows
    months = []
    for month in range(1, 13):
        first = date(year, month, 1)
        last = date(year, month, month_names.monthrange(year, month)[1])
        in_month = [r for r in rows if r.details.start_date <= last and r.details.end_date >= first]
        months.append({"number": month, "first": first, "rows": in_month})
    return render_template(
        "exercises/year.html",
        year=year,
        months=months,
        count=len(rows),
        previous_year=year - 1 if year > MIN_YEAR else None,
        next_year=year + 1 if year < MAX_YEAR else None,
        locale=_locale(),
    )


def _feed_filters() -> ExerciseFilters:
    filters = parse_filters(request.args).filters
    if filters.year or filters.date_from or filters.date_to:
        return filters
    return replace(filters, date_from=utcnow().date() - timedelta(days=FEED_LOOKBACK_DAYS))


def _event(row, locale: str, stamp) -> icalendar.Event:
    submission, details = row.submission, row.details
    designation = details.designation(locale) or submission.reference
    facts = [
        _("State: %(state)s", state=submission.state.name(locale)),
        _("Type: %(type)s", type=details.exercise_type.label if details.exercise_type else "-"),
        _("Troops: %(n)s", n=details.troops_total if details.troops_total is not None else "-"),
        _("Reference: %(ref)s", ref=submission.reference),
    ]
    event = icalendar.Event()
    event.add("uid", f"{submission.reference}@registry")
    event.add("dtstamp", stamp)
    event.add("sequence", submission.accepted_revision_no or 0)
    event.add("dtstart", details.start_date)
    event.add("dtend", details.end_date + timedelta(days=1))  # all-day events: DTEND is exclusive
    event.add("summary", f"{designation} ({submission.state.code})")
    if details.area_description:
        event.add("location", details.area_description)
    event.add("description", "\n".join(facts))
    event.add("url", url_for("exercises.detail", reference=submission.reference, _external=True))
    event.add("status", "CONFIRMED")
    return event


@bp.route("/calendar.ics")
@login_required
def feed():
    """Accepted exercises the user may see, as the accepted version; secretariat-only records never leave
    the registry through an officer's calendar client."""
    locale = _locale()
    stmt = exercise_query(current_user, _feed_filters(), sort="start_asc", accepted_only=True)
    if current_user.role == Role.OFFICER:
        stmt = stmt.where(Submission.visibility != Visibility.SECRETARIAT)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//SCO CBM Registry//Exercise notifications//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("SCO exercise notifications"))
    stamp = utcnow()
    for result in db.session.execute(stmt.limit(FEED_MAX_EVENTS)):
        row = as_row(result)
        if row.details.start_date and row.details.end_date:  # an accepted version always has both
            cal.add_component(_event(row, locale, stamp))
    response = Response(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="sco-exercises.ics"'
    return response

