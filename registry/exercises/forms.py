"""The exercise notification form, and the inquiry forms of the record page.

The service (registry/services/exercises.py) is the one place that validates what a filer typed: counts,
coordinates and dates travel as the text typed, so a refused value comes back on the form exactly as it was
entered, with the service's message beside it. The form itself checks only what the service never sees
(the CSRF token, a select sent twice, the envelope choices).
"""

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, StringField, TextAreaField

from registry.enums import ExerciseType, ParticipantRole, PhaseName, Visibility
from registry.forms import LANGUAGE_CHOICES, DateText, SingleSelectField, with_blank
from registry.i18n import _l
from registry.models.exercise import NAME_MAX, SHORT_MAX, TEXT_MAX
from registry.models.submission import SOURCE_DOCUMENT_MAX
from registry.services.exercises import (
    BOOL_FIELDS,
    COUNT_FIELDS,
    TEXT_FIELDS,
    ExerciseInput,
    ParticipantInput,
    PhaseInput,
)
from registry.services.inquiries import QUESTION_MAX

MAX_PARTICIPANTS = 40  # every SCO member and partner, with room to spare
MAX_PHASES = 12






def _number(label, description=None):
    return StringField(label, description=description, render_kw={"inputmode": "numeric", "class": "number"})


class ParticipantRow(Form):
    # Choices are set per request (members and partners today); the service checks the id sent.
    state_id = SingleSelectField(_l("State"), choices=[], validate_choice=False)
    role = SingleSelectField(_l("Role"), choices=ParticipantRole.choices, validate_choice=False,
                             default=ParticipantRole.PARTICIPANT.value)
    contribution = StringField(_l("Contribution"), render_kw={"maxlength": SHORT_MAX})
    troops = _number(_l("Troops"))


class PhaseRow(Form):
    name = SingleSelectField(_l("Phase"), choices=with_blank(PhaseName.choices), validate_choice=False)
    start_date = DateText(_l("Starts"))
    end_date = DateText(_l("Ends"))


class ExerciseForm(FlaskForm):
    # Random per form page; a retried POST of the same page finds the record it opened (no duplicate).
    idempotency_key = HiddenField()
    # --- the envelope ---
    state_id = SingleSelectField(_l("Notifying state"), choices=[], validate_choice=False,
                                 description=_l("The state on whose behalf the Secretariat enters this notification."))
    source_document = StringField(
        _l("Source document"), render_kw={"maxlength": SOURCE_DOCUMENT_MAX},
        description=_l("The note verbale (or other document) the notification was received in, e.g. its number "
                       "and date."))
    visibility = SingleSelectField(_l("Who may see the accepted record"), choices=Visibility.choices,
                                   default=Visibility.MEMBERS.value)
    original_language = SingleSelectField(_l("Language of the original"), choices=lambda: LANGUAGE_CHOICES,
                                          default="ru")
    is_nil = BooleanField(_l("Nil report: no notifiable exercise to declare for the period"))

    # --- the exercise ---
    designation_ru = StringField(_l("Designation in Russian"), render_kw={"maxlength": NAME_MAX, "lang": "ru"})
    designation_zh = StringField(_l("Designation in Chinese"), render_kw={"maxlength": NAME_MAX, "lang": "zh"})
    designation_en = StringField(_l("Designation in English"), render_kw={"maxlength": NAME_MAX, "lang": "en"})
    exercise_type = SingleSelectField(_l("Type of exercise"), choices=with_blank(ExerciseType.choices),
                                      validate_choice=False)
    purpose = TextAreaField(_l("Purpose"), render_kw={"maxlength": TEXT_MAX, "rows": 3})
    command_level = StringField(_l("Level of command"), render_kw={"maxlength": SHORT_MAX},
                                description=_l("e.g. military district, army, division."))
    headquarters = StringField(_l("Headquarters conducting the exercise"), render_kw={"maxlength": SHORT_MAX})

    start_date = DateText(_l("Start date"), description=_l("YYYY-MM-DD"))
    end_date = DateText(_l("End date"), description=_l("YYYY-MM-DD"))

    area_description = TextAreaField(_l("Area of the exercise"), render_kw={"maxlength": TEXT_MAX, "rows": 3},
                                     description=_l("Geographical features and place names that describe it."))
    latitude = StringField(_l("Latitude"), render_kw={"inputmode": "decimal", "class": "number"},
                           description=_l("Decimal degrees, -90 to 90 (north is positive)."))
    longitude = StringField(_l("Longitude"), render_kw={"inputmode": "decimal", "class": "number"},
                            description=_l("Decimal degrees, -180 to 180 (east is positive)."))
    within_border_zone = BooleanField(_l("Within 100 km of a state border"))
    border_segment = StringField(_l("Border segment"), render_kw={"maxlength": SHORT_MAX},
                                 description=_l("Which border, e.g. China-Kazakhstan."))

    troops_total = _number(_l("Troops in total"))
    troops_ground = _number(_l("Ground forces"))
    troops_air = _number(_l("Air forces"))
    troops_naval = _number(_l("Naval forces"))
    troops_airborne = _number(_l("Airborne forces"))
    troops_other = _number(_l("Other troops"))
    battle_tanks = _number(_l("Battle tanks"))
    acv = _number(_l("Armoured combat vehicles"))
    artillery = _number(_l("Artillery pieces of 100 mm and above"))
    combat_aircraft = _number(_l("Combat aircraft"))
    helicopters = _number(_l("Helicopters"))
    sorties = _number(_l("Planned fixed-wing sorties"))
    warships = _number(_l("Warships"))
    amphibious_airborne = _number(_l("Amphibious or airborne troops"))

    observers_invited = BooleanField(_l("Observers are invited"))
    observer_programme = TextAreaField(_l("Programme for the observers"), render_kw={"maxlength": TEXT_MAX, "rows": 3})
    observer_places_per_state = _number(_l("Places per invited state"))
    observer_arrival_point = StringField(_l("Point of arrival"), render_kw={"maxlength": SHORT_MAX})

    calendar_entry_id = SingleSelectField(
        _l("Entry of the annual calendar"), choices=[], validate_choice=False,
        description=_l("Entries of your state's accepted annual calendars."))
    not_forecast_reason = TextAreaField(_l("Why it was not in the annual calendar"),
                                        render_kw={"maxlength": TEXT_MAX, "rows": 2})
    is_alert = BooleanField(_l("Alert activity, carried out without advance notice to the troops"))
    alert_justification = TextAreaField(_l("Why it could not be notified in advance"),
                                        render_kw={"maxlength": TEXT_MAX, "rows": 2})
    late_explanation = TextAreaField(
        _l("Why the notification is late"), render_kw={"maxlength": TEXT_MAX, "rows": 2},
        description=_l("Needed when it is filed later than the lead time of a profile in force."))

    participants = FieldList(FormField(ParticipantRow), max_entries=MAX_PARTICIPANTS)
    phases = FieldList(FormField(PhaseRow), max_entries=MAX_PHASES)

    lock_version = HiddenField()


def _text(value) -> str | None:
    """Whitespace-only counts and coordinates are empty; anything else reaches the service as typed."""
    if value is None:
        return None
    value = str(value)
    return value.strip() or None


def to_input(form: ExerciseForm) -> ExerciseInput:
    """What the service expects; raw text for numbers, so the service's message fits what was typed."""
    values: dict[str, Any] = {name: form[name].data for name in TEXT_FIELDS}
    values.update({name: bool(form[name].data) for name in BOOL_FIELDS})
    values.update({name: _text(form[name].data) for name in COUNT_FIELDS})
    values["exercise_type"] = form.exercise_type.data or None
    values["start_date"] = form.start_date.as_date()
    values["end_date"] = form.end_date.as_date()
    values["latitude"] = _text(form.latitude.data)
    values["longitude"] = _text(form.longitude.data)
    participants = [
        ParticipantInput(state_id=row.form.state_id.data or None, role=row.form.role.data or None,
                         contribution=row.form.contribution.data or "", troops=_text(row.form.troops.data))
        for row in form.participants
    ]
    phases = [
        PhaseInput(name=row.form.name.data or None, start_date=row.form.start_date.as_date(),
                   end_date=row.form.end_date.as_date())
        for row in form.phases
    ]
    return ExerciseInput(values=values, participants=participants, phases=phases,
                         calendar_entry_id=form.calendar_entry_id.data or None)


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    return str(value)


def initial_data(submission, details) -> dict[str, Any]:
    """The saved draft as form data (the edit page)."""
    data: dict[str, Any] = {name: getattr(details, name) or "" for name in TEXT_FIELDS}
    data.update({name: bool(getattr(details, name)) for name in BOOL_FIELDS})
    data.update({name: _shown(getattr(details, name)) for name in COUNT_FIELDS})
    data.update({
        "exercise_type": details.exercise_type.value if details.exercise_type else "",
        "start_date": _shown(details.start_date),
        "end_date": _shown(details.end_date),
        "latitude": _shown(details.latitude),
        "longitude": _shown(details.longitude),
        "calendar_entry_id": str(details.calendar_entry_id) if details.calendar_entry_id else "",
        "participants": [
            {"state_id": str(p.state_id), "role": p.role.value, "contribution": p.contribution,
             "troops": _shown(p.troops)}
            for p in details.participants
        ],
        "phases": [
            {"name": p.name.value, "start_date": _shown(p.start_date), "end_date": _shown(p.end_date)}
            for p in details.phases
        ],
        "visibility": submission.visibility.value,
        "original_language": submission.original_language,
        "lock_version": str(submission.lock_version),
    })
    return data


class InquiryForm(FlaskForm):
    question = TextAreaField(_l("Your question"), render_kw={"maxlength": QUESTION_MAX, "rows": 4})
    emergency = BooleanField(_l("Emergency: the answer is due within the shorter period"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), render_kw={"maxlength": QUESTION_MAX, "rows": 4})
