"""Which exercise notifications a user may list: ONE query builder, filtered, sorted and paged by keyset.

The list page, the year view and the iCalendar feed use it (exports and the API should too), so none of
them can show more than the others. It starts from `visible(user, Submission)` and joins the version the
user may read: the working version for the filing state, the Secretariat and auditors, the accepted one
for everyone else (the SQL twin of `scoping.sees_working_version`).

Filter values come from a query string and are validated here: unknown values are ignored with a message,
never passed to the database; a cursor that does not decode simply gives the first page.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import joinedload

from registry.db import db
from registry.enums import ExerciseType, RecordType, Role, SubmissionStatus
from registry.i18n import _
from registry.models import ExerciseDetails, MemberState, Revision, Submission
from registry.services.scoping import reads_revision, visible
from registry.services.validation import control_character_message

MIN_YEAR, MAX_YEAR = 1990, 2100
SEARCH_MAX = 200
MAX_STATES = 30
PAGE_SIZE = 50
MAX_PAGE = 500
CURSOR_MAX = 400
ID_MAX = 2**63 - 1
TRUE_WORDS = ("1", "on", "y", "yes", "true")
FALSE_WORDS = ("", "0", "off", "n", "no", "false")
FLAGS = ("late", "mandatory", "observers", "alert")
# Statuses of an amendment being prepared or reviewed: readers of the accepted version see "accepted".
AMENDMENT_STATUSES = (SubmissionStatus.DRAFT, SubmissionStatus.SUBMITTED, SubmissionStatus.RETURNED)
LISTED_STATUSES = tuple(s for s in SubmissionStatus if s != SubmissionStatus.DELETED)
_STATE_CODE = re.compile(r"[A-Z]{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- which version and status a user reads ------------------------------------------------------------


def shown_status(user):
    """The status this user reads: others see an accepted record under amendment as accepted."""
    public = case((Submission.status.in_([s.value for s in AMENDMENT_STATUSES]), SubmissionStatus.ACCEPTED.value),
                  else_=Submission.status)
    if user.role in (Role.SECRETARIAT, Role.AUDITOR):
        return Submission.status
    if user.role == Role.OFFICER:
        return case((Submission.state_id == user.state_id, Submission.status), else_=public)
    return public


# --- filters --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseFilters:
    states: tuple[str, ...] = ()
    types: tuple[ExerciseType, ...] = ()
    statuses: tuple[SubmissionStatus, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    year: int | None = None
    late: bool = False
    mandatory: bool = False
    observers: bool = False
    alert: bool = False
    text: str = ""

    def as_args(self) -> dict:
        """The query-string form of these filters, for links (next page, sorting, the feed)."""
        args: dict = {}
        if self.states:
            args["state"] = list(self.states)
        if self.types:
            args["type"] = [t.value for t in self.types]
        if self.statuses:
            args["status"] = [s.value for s in self.statuses]
        if self.date_from:
            args["from"] = self.date_from.isoformat()
        if self.date_to:
            args["to"] = self.date_to.isoformat()
        if self.year:
            args["year"] = self.year
        for flag in FLAGS:
            if getattr(self, flag):
                args[flag] = "1"
        if self.text:
            args["q"] = self.text
        return args

    @property
    def any(self) -> bool:
        return bool(self.as_args())


@dataclass
class ParsedFilters:
    filters: ExerciseFilters
    problems: list[str] = field(default_factory=list)


def _clean_words(values: list[str], limit: int) -> list[str]:
    """Distinct, stripped, short values; anything else is not a code of ours anyway."""
    seen: list[str] = []
    for value in values[:limit]:
        value = (value or "").strip()
        if value and len(value) <= 40 and value not in seen:
            seen.append(value)
    return seen


def _parse_enum(values: list[str], enum_cls, allowed, problem: str, problems: list[str]) -> tuple:
    chosen = []
    for value in _clean_words(values, len(enum_cls) + 5):
        try:
            member = enum_cls(value)
        except ValueError:
            member = None
        if member is None or member not in allowed:
            problems.append(problem)
        elif member not in chosen:
            chosen.append(member)
    return tuple(chosen)


def _parse_date(value: str, label: str, problems: list[str]) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) == 10 and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(_("%(field)s: enter a date as YYYY-MM-DD; this one was ignored.", field=label))
    return None


def _parse_flag(value: str | None, label: str, problems: list[str]) -> bool:
    value = (value or "").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value not in FALSE_WORDS:
        problems.append(_("%(field)s: unknown value, ignored.", field=label))
    return False


def parse_filters(args) -> ParsedFilters:
    """Filters from a query string (a MultiDict). Never raises: bad values are dropped with a message."""
    problems: list[str] = []
    codes = [v.upper() for v in _clean_words(args.getlist("state"), MAX_STATES + 1)]
    if len(codes) > MAX_STATES:
        problems.append(_("Choose at most %(n)d states.", n=MAX_STATES))
        codes = codes[:MAX_STATES]
    known = set(db.session.scalars(select(MemberState.code))) if codes else set()
    states = tuple(c for c in codes if _STATE_CODE.fullmatch(c) and c in known)
    if len(states) != len(codes):
        problems.append(_("Unknown state codes were ignored."))
    types = _parse_enum(args.getlist("type"), ExerciseType, set(ExerciseType),
                        _("Unknown exercise types were ignored."), problems)
    statuses = _parse_enum(args.getlist("status"), SubmissionStatus, set(LISTED_STATUSES),
                           _("Unknown statuses were ignored."), problems)
    date_from = _parse_date(args.get("from", ""), _("From"), problems)
    date_to = _parse_date(args.get("to", ""), _("To"), problems)
    if date_from and date_to and date_to < date_from:
        problems.append(_("The end of the date range is before its start; the date range was ignored."))
        date_from = date_to = None
    year = None
    raw_year = (args.get("year") or "").strip()
    if raw_year:
        if raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4 and MIN_YEAR <= int(raw_year) <= MAX_YEAR:
            year = int(raw_year)
        else:
            problems.append(_("Year: enter a year from %(a)d to %(b)d; this one was ignored.", a=MIN_YEAR, b=MAX_YEAR))
    flags = {
        "late": _parse_flag(args.get("late"), _("Late"), problems),
        "mandatory": _parse_flag(args.get("mandatory"), _("Mandatory notification"), problems),
        "observers": _parse_flag(args.get("observers"), _("Observers required"), problems),
        "alert": _parse_flag(args.get("alert"), _("Alert activity"), problems),
    }
    text = (args.get("q") or "").strip()
    if text and control_character_message(text):
        problems.append(_("Search: remove the control characters; the search text was ignored."))
        text = ""
    elif len(text) > SEARCH_MAX:
        problems.append(_("Search: at most %(n)d characters; the search text was ignored.", n=SEARCH_MAX))
        text = ""
    return ParsedFilters(ExerciseFilters(states=states, types=types, statuses=statuses, date_from=date_from,
                                         date_to=date_to, year=year, text=text, **flags), problems)


def _apply_filters(stmt: Select, filters: ExerciseFilters, status_expr) -> Select:
    if filters.states:
        stmt = stmt.where(Submission.state_id.in_(select(MemberState.id).where(MemberState.code.in_(filters.states))))
    if filters.types:
        stmt = stmt.where(ExerciseDetails.exercise_type.in_(filters.types))
    if filters.statuses:
        stmt = stmt.where(status_expr.in_([s.value for s in filters.statuses]))
    # A date range or a year keeps the exercises that overlap it (a record without dates overlaps nothing).
    if filters.date_from:
        stmt = stmt.where(ExerciseDetails.end_date >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(ExerciseDetails.start_date <= filters.date_to)
    if filters.year:
        stmt = stmt.where(ExerciseDetails.start_date <= date(filters.year, 12, 31),
                          ExerciseDetails.end_date >= date(filters.year, 1, 1))
    if filters.late:
        stmt = stmt.where(Submission.is_late.is_(True))
    if filters.mandatory:
        stmt = stmt.where(ExerciseDetails.mandatory_notification.is_(True))
    if filters.observers:
        stmt = stmt.where(ExerciseDetails.observers_required.is_(True))
    if filters.alert:
        stmt = stmt.where(ExerciseDetails.is_alert.is_(True))
    if filters.text:
        # lower() on both sides: LIKE is case-insensitive on SQLite and not on PostgreSQL; % and _ are escaped.
        # SQLite's lower() folds ASCII only, so the text as typed is matched too (Cyrillic in its own case).
        term, folded = filters.text, filters.text.lower()
        columns = (ExerciseDetails.designation_ru, ExerciseDetails.designation_zh, ExerciseDetails.designation_en,
                   Submission.reference)
        matches = [func.lower(column).contains(folded, autoescape=True) for column in columns]
        if folded != term:
            matches += [column.contains(term, autoescape=True) for column in columns]
        stmt = stmt.where(or_(*matches))
    return stmt


# --- sorting and the keyset cursor ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    column: object
    descending: bool
    kind: str  # how the cursor stores the key: "date", "datetime" or "text"


SORTS: dict[str, Sort] = {
    "start_desc": Sort(ExerciseDetails.start_date, True, "date"),
    "start_asc": Sort(ExerciseDetails.start_date, False, "date"),
    "reference": Sort(Submission.reference, False, "text"),
    "reference_desc": Sort(Submission.reference, True, "text"),
    "submitted_desc": Sort(Submission.submitted_at, True, "datetime"),
    "submitted_asc": Sort(Submission.submitted_at, False, "datetime"),
}
DEFAULT_SORT = "start_desc"


def clean_sort(value) -> str:
    return value if isinstance(value, str) and value in SORTS else DEFAULT_SORT


def _order(stmt: Select, sort: Sort) -> Select:
    """The key, then the submission id as tie-breaker. A missing key (a draft without dates, never submitted)
    counts as the greatest: last going up, first going down. That is PostgreSQL's own order, so an index on the
    key serves both directions."""
    if sort.descending:
        return stmt.order_by(sort.column.desc().nulls_first(), Submission.id.desc())
    return stmt.order_by(sort.column.asc().nulls_last(), Submission.id.asc())


def _after(stmt: Select, sort: Sort, key, last_id: int) -> Select:
    """Rows strictly after (key, last_id) in the order of `_order`."""
    column = sort.column
    if sort.descending:
        if key is None:  # still among the rows without a key, then every row with one
            return stmt.where(or_(and_(column.is_(None), Submission.id < last_id), column.is_not(None)))
        # `column <= key` says the same as the OR, in a form an index range can start from: without it a page in
        # the middle walked the index from its first row (1 s at 100,000 notifications, bench/pages.py).
        return stmt.where(column <= key, or_(column < key, and_(column == key, Submission.id < last_id)))
    if key is None:
        return stmt.where(column.is_(None), Submission.id > last_id)
    return stmt.where(or_(column > key, and_(column == key, Submission.id > last_id), column.is_(None)))


def _key_of(row: "ExerciseRow", sort_name: str):
    if sort_name.startswith("start"):
        return row.details.start_date
    if sort_name.startswith("reference"):
        return row.submission.reference
    return row.submission.submitted_at


def encode_cursor(sort_name: str, key, last_id: int) -> str:
    value = key.isoformat() if isinstance(key, date | datetime) else key
    raw = json.dumps([sort_name, value, last_id], separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor, sort_name: str):
    """(key, id) from a cursor made by `encode_cursor` for this sort; None for anything else."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > CURSOR_MAX or not cursor.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, value, last_id = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None
    if name != sort_name or type(last_id) is not int or not 0 < last_id <= ID_MAX:
        return None
    if value is None:
        return None, last_id
    if not isinstance(value, str) or len(value) > 40:
        return None
    kind = SORTS[sort_name].kind
    try:
        if kind == "date":
            key = date.fromisoformat(value)
        elif kind == "datetime":
            key = datetime.fromisoformat(value)
            if key.tzinfo is None:
                return None
        else:
            key = value
    except ValueError:
        return None
    if kind == "text" and control_character_message(key):
        return None
    return key, last_id


# --- the query ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseRow:
    submission: Submission
    details: ExerciseDetails  # the version this user may read
    status: SubmissionStatus  # as this user reads it


@dataclass
class ExercisePage:
    rows: list[ExerciseRow]
    next_cursor: str | None
    cursor_ignored: bool = False  # a cursor was given but not understood: this is the first page


def exercise_query(user, filters: ExerciseFilters | None = None, *, sort: str = DEFAULT_SORT,
                   accepted_only: bool = False, load_state: bool = True) -> Select:
    """Rows of (Submission, ExerciseDetails, shown status) the user may see, filtered and ordered.

    `accepted_only` reads the accepted version for everyone and leaves out what was never accepted or was
    cancelled (the iCalendar feed). Callers may add `.limit()` or stream with `yield_per`. Exports pass
    `load_state=False` and pick plain columns from the same joins (no ORM objects per row).
    """
    if accepted_only:
        readable = Revision.number == Submission.accepted_revision_no
        status_expr = literal(SubmissionStatus.ACCEPTED.value)
    else:
        readable, status_expr = reads_revision(user), shown_status(user)
    stmt = (
        visible(user, Submission)
        .where(Submission.record_type == RecordType.EXERCISE)
        .join(Revision, and_(Revision.submission_id == Submission.id, readable))
        .join(ExerciseDetails, ExerciseDetails.revision_id == Revision.id)
        .add_columns(ExerciseDetails, status_expr.label("shown_status"))
    )
    if load_state:
        stmt = stmt.options(joinedload(Submission.state))
    if accepted_only:
        stmt = stmt.where(Submission.accepted_revision_no.is_not(None),
                          Submission.status.not_in([SubmissionStatus.CANCELLED.value, SubmissionStatus.DELETED.value]))
    stmt = _apply_filters(stmt, filters or ExerciseFilters(), status_expr)
    return _order(stmt, SORTS[clean_sort(sort)])


def as_row(result) -> ExerciseRow:
    submission, details, status = result
    return ExerciseRow(submission, details, SubmissionStatus(status))


# The index that gives each sort's order (the reference's is its unique constraint, which SQLite already walks).
SORT_INDEXES = {
    "start": (ExerciseDetails, "ix_exercise_details_start_end"),
    "submitted": (Submission, "ix_submissions_submitted_at"),
}


def _walk_sort_index(stmt: Select, sort: str) -> Select:
    """SQLite: read a page in the order of the sort's index, stopping after the page.

    Left alone, SQLite's planner starts from `submissions` (its visibility OR cannot use an index), joins every
    visible row and sorts them all before taking the first 51: 24 ms at 10,000 notifications, 96 ms at 100,000,
    2.2 s sorted by submission time (bench/pages.py). Walking the index instead reads about one page of rows
    whatever the size. PostgreSQL already plans a backward index scan with an incremental sort: SQLite only.
    """
    model_and_index = SORT_INDEXES.get(sort.split("_")[0])
    if model_and_index is None:
        return stmt
    model, index = model_and_index
    return stmt.with_hint(model, f"INDEXED BY {index}", "sqlite")


def _first_page(stmt: Select, count: int) -> list["ExerciseRow"]:
    """The first `count` rows in the default order (start date descending, undated first), as two index ranges.

    Without a range on the start date, SQLite (3.40) adds a Bloom filter over every row of `submissions` to the
    index walk once its statistics describe a million rows: 470 ms for the first page, 26 ms for a page in the
    middle (bench/pages.py). `start_date <= 9999-12-31` is that range; the undated drafts come first, as in
    `_order`.
    """
    column = ExerciseDetails.start_date
    rows = [as_row(r) for r in db.session.execute(stmt.where(column.is_(None)).limit(count))]
    if len(rows) < count:
        dated = stmt.where(column <= date.max).limit(count - len(rows))
        rows += [as_row(r) for r in db.session.execute(dated)]
    return rows


def exercise_rows(user, filters: ExerciseFilters | None = None, *, after: str | None = None,
                  limit: int | None = PAGE_SIZE, sort: str = DEFAULT_SORT, accepted_only: bool = False) -> ExercisePage:
    """One page of rows after the cursor `after` (None: the first page), and the cursor of the next page.

    `limit=None` returns every row (the year view, the feed: already narrowed by their filters).
    """
    sort = clean_sort(sort)
    stmt = exercise_query(user, filters, sort=sort, accepted_only=accepted_only)
    position = decode_cursor(after, sort) if after else None
    if position is not None:
        stmt = _after(stmt, SORTS[sort], *position)
    if limit is None:
        return ExercisePage([as_row(r) for r in db.session.execute(stmt)], None, bool(after) and position is None)
    limit = max(1, min(int(limit), MAX_PAGE))
    if filters and filters.text:
        # A text search reads every row whatever the plan (LIKE '%...%'): in storage order that is ten times faster
        # than in the index's order, which jumps across the table (3 s against 0.26 s at 100,000 on SQLite).
        results = [as_row(r) for r in db.session.execute(stmt.limit(limit + 1))]
    elif position is None and sort == DEFAULT_SORT:
        results = _first_page(_walk_sort_index(stmt, sort), limit + 1)
    else:
        results = [as_row(r) for r in db.session.execute(_walk_sort_index(stmt, sort).limit(limit + 1))]
    rows = results[:limit]
    next_cursor = None
    if len(results) > limit:
        last = rows[-1]
        next_cursor = encode_cursor(sort, _key_of(last, sort), last.submission.id)
    return ExercisePage(rows, next_cursor, bool(after) and position is None)
