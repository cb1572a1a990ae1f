"""The annual calendar form: the envelope, the year, and the planned activities as repeatable rows.

The service (registry/services/calendars.py) is the one place that validates what a filer typed: the year,
dates and troop numbers travel as the text typed, so a refused value comes back on the form exactly as it was
entered, with the service's message beside it. The form itself checks only what the service never sees (the
CSRF token, a select sent twice, the envelope choices).
"""

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, StringField, TextAreaField

from registry.enums import ExerciseType, Visibility
from registry.forms import LANGUAGE_CHOICES, DateText, SingleSelectField, with_blank
from registry.i18n import _l
from registry.models.exercise import NAME_MAX, SHORT_MAX, TEXT_MAX
from registry.models.submission import SOURCE_DOCUMENT_MAX
from registry.services.calendars import EntryInput

MAX_ENTRIES = 100  # far more activities than any state forecasts in a year






class EntryRow(Form):
    """One planned activity."""

    designation = StringField(_l("Designation"), render_kw={"maxlength": NAME_MAX})
    exercise_type = SingleSelectField(_l("Type"), choices=with_blank(ExerciseType.choices), validate_choice=False)
    planned_start = DateText(_l("Planned start"))
    planned_end = DateText(_l("Planned end"))
    area = StringField(_l("Area"), render_kw={"maxlength": SHORT_MAX})
    troops = StringField(_l("Troops"), render_kw={"inputmode": "numeric", "class": "number"})


class CalendarForm(FlaskForm):
    # Random per form page; a retried POST of the same page finds the record it opened (no duplicate).
    idempotency_key = HiddenField()
    # --- set when the calendar is opened ---
    state_id = SingleSelectField(_l("Filing state"), choices=[], validate_choice=False,
                                 description=_l("The state on whose behalf the Secretariat enters this calendar."))
    source_document = StringField(
        _l("Source document"), render_kw={"maxlength": SOURCE_DOCUMENT_MAX},
        description=_l("The note verbale (or other document) the calendar was received in, e.g. its number "
                       "and date."))
    year = StringField(_l("Year forecast"), render_kw={"inputmode": "numeric", "maxlength": 4, "class": "number"},
                       description=_l("The year whose activities are listed. It cannot be changed later."))
    # --- the envelope ---
    visibility = SingleSelectField(_l("Who may see the accepted calendar"), choices=Visibility.choices,
                                   default=Visibility.MEMBERS.value)
    original_language = SingleSelectField(_l("Language of the original"), choices=lambda: LANGUAGE_CHOICES,
                                           default="ru")
    is_nil = BooleanField(_l("Nil report: no notifiable activity is planned for the year"))
    remarks = TextAreaField(_l("Remarks"), render_kw={"maxlength": TEXT_MAX, "rows": 3})

    entries = FieldList(FormField(EntryRow), max_entries=MAX_ENTRIES)

    lock_version = HiddenField()


def _text(value) -> str | None:
    """Whitespace-only numbers are empty; anything else reaches the service as typed."""
    if value is None:
        return None
    return str(value).strip() or None


def to_entries(form: CalendarForm) -> list[EntryInput]:
    return [
        EntryInput(designation=row.form.designation.data or "", exercise_type=row.form.exercise_type.data or None,
                   planned_start=row.form.planned_start.as_date(), planned_end=row.form.planned_end.as_date(),
                   area=row.form.area.data or "", troops=_text(row.form.troops.data))
        for row in form.entries
    ]


def initial_data(submission, details) -> dict[str, Any]:
    """The saved draft as form data (the edit page)."""
    return {
        "visibility": submission.visibility.value,
        "original_language": submission.original_language,
        "is_nil": submission.is_nil,
        "remarks": details.remarks or "",
        "entries": [
            {"designation": e.designation, "exercise_type": e.exercise_type.value,
             "planned_start": e.planned_start.isoformat(), "planned_end": e.planned_end.isoformat(),
             "area": e.area or "", "troops": "" if e.troops is None else str(e.troops)}
            for e in details.entries
        ],
        "lock_version": str(submission.lock_version),
    }
