"""The forms of voluntary visits: the offer, an invited state's answer, the host's postponement and cancellation,
a request for a visit, and the post-visit report or remarks with their signed document.

As on the other record forms, the service is the one place that validates what was typed: dates, times,
numbers and coordinates travel as typed, so a refused value comes back exactly as entered with the message
beside it. The forms check only what the service never sees (CSRF, a select sent twice, the envelope).
"""

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, RadioField, StringField, TextAreaField

from registry.enums import AnswerDecision, CostBearer, Visibility, VisitKind
from registry.forms import LANGUAGE_CHOICES, DateText, SingleSelectField, with_blank
from registry.i18n import _l
from registry.models.submission import SOURCE_DOCUMENT_MAX
from registry.models.visit import NAME_MAX, PERSON_MAX, SHORT_MAX, TEXT_MAX
from registry.services.visits import (
    BOOL_FIELDS,
    DATE_FIELDS,
    MAX_PARTICIPANTS,
    TEXT_FIELDS,
    TIME_FIELDS,
    InvitationInput,
    OfferInput,
    ParticipantInput,
)

MAX_INVITATIONS = 20  # every member state, with room to spare
# Who may read the offer: invited states must, so "Secretariat only" is not offered.
def offer_visibility():
    return [(v.value, v.label) for v in Visibility if v != Visibility.SECRETARIAT]


def _number(label, description=None):
    return StringField(label, description=description, render_kw={"inputmode": "numeric", "class": "number"})


def _time(label):
    return StringField(label, render_kw={"placeholder": "HH:MM", "maxlength": 5, "class": "number",
                                         "inputmode": "numeric"})


def _cost(label):
    return SingleSelectField(label, choices=with_blank(CostBearer.choices), validate_choice=False)


class InvitationRow(Form):
    state_id = SingleSelectField(_l("Invited state"), choices=[], validate_choice=False)
    places = _number(_l("Places"))


class OfferForm(FlaskForm):
    idempotency_key = HiddenField()
    state_id = SingleSelectField(_l("Host state"), choices=[], validate_choice=False,
                                 description=_l("The state on whose behalf the Secretariat enters this offer."))
    source_document = StringField(_l("Source document"), render_kw={"maxlength": SOURCE_DOCUMENT_MAX},
                                  description=_l("The note verbale the offer was received in (number and date)."))
    visibility = SingleSelectField(_l("Who may see the accepted offer"), choices=offer_visibility,
                                   default=Visibility.MEMBERS.value)
    original_language = SingleSelectField(_l("Language of the original"), choices=lambda: LANGUAGE_CHOICES,
                                          default="ru")
    # --- the facility ---
    kind = SingleSelectField(_l("Kind of visit"), choices=with_blank(VisitKind.choices), validate_choice=False)
    facility_ru = StringField(_l("Facility (Russian)"), render_kw={"maxlength": NAME_MAX, "lang": "ru"})
    facility_zh = StringField(_l("Facility (Chinese)"), render_kw={"maxlength": NAME_MAX, "lang": "zh"})
    facility_en = StringField(_l("Facility (English)"), render_kw={"maxlength": NAME_MAX, "lang": "en"})
    unit = StringField(_l("Unit or formation"), render_kw={"maxlength": SHORT_MAX})
    location = TextAreaField(_l("Location"), render_kw={"maxlength": TEXT_MAX, "rows": 2})
    latitude = StringField(_l("Latitude"), description=_l("Decimal degrees, e.g. 45.1262"),
                           render_kw={"inputmode": "decimal", "class": "number"})
    longitude = StringField(_l("Longitude"), description=_l("Decimal degrees, e.g. 78.4469"),
                            render_kw={"inputmode": "decimal", "class": "number"})
    within_border_zone = BooleanField(_l("Within 100 km of a border (1996 agreement zone)"))
    border_segment = StringField(_l("Border segment"), render_kw={"maxlength": SHORT_MAX})
    # --- when ---
    start_date = DateText(_l("Starts on"))
    start_time = _time(_l("at (local time)"))
    end_date = DateText(_l("Ends on"))
    end_time = _time(_l("at (local time)"))
    answer_by = DateText(_l("Invited states answer by"),
                         description=_l("Answers after this date are refused; it must be before the visit."))
    # --- the programme and practicalities ---
    programme = TextAreaField(_l("Programme"), render_kw={"maxlength": TEXT_MAX, "rows": 5})
    point_of_entry = StringField(_l("Point of entry"), render_kw={"maxlength": SHORT_MAX})
    cost_travel = _cost(_l("Travel to the point of entry"))
    cost_local_transport = _cost(_l("Transport in the host state"))
    cost_accommodation = _cost(_l("Accommodation and meals"))
    cost_interpretation = _cost(_l("Interpretation"))
    costs_note = TextAreaField(_l("Note on costs"), render_kw={"maxlength": TEXT_MAX, "rows": 2})
    interpret_ru = BooleanField(_l("Russian"))
    interpret_zh = BooleanField(_l("Chinese"))
    interpret_en = BooleanField(_l("English"))
    interpretation_other = StringField(_l("Other languages"), render_kw={"maxlength": SHORT_MAX})
    # --- who is invited ---
    invite_all_members = BooleanField(_l("Invite all member states"))
    places_each = _number(_l("Places for each member state"))
    invitations = FieldList(FormField(InvitationRow), max_entries=MAX_INVITATIONS)

    lock_version = HiddenField()


def _text(value) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def to_offer(form: OfferForm) -> OfferInput:
    values: dict[str, Any] = {name: form[name].data or "" for name in TEXT_FIELDS}
    values.update({name: bool(form[name].data) for name in BOOL_FIELDS})
    values.update({name: form[name].as_date() for name in DATE_FIELDS})
    values.update({name: _text(form[name].data) for name in (*TIME_FIELDS, "latitude", "longitude",
                                                              "places_each")})
    values.update({name: form[name].data or None for name in ("kind", "cost_travel", "cost_local_transport",
                                                              "cost_accommodation", "cost_interpretation")})
    invitations = [InvitationInput(state_id=row.form.state_id.data or None, places=_text(row.form.places.data))
                   for row in form.invitations]
    return OfferInput(values=values, invitations=invitations)


def offer_data(submission, details) -> dict[str, Any]:
    """The saved draft as form data (the edit page)."""
    data: dict[str, Any] = {name: getattr(details, name) or "" for name in TEXT_FIELDS}
    data.update({name: getattr(details, name) for name in BOOL_FIELDS})
    data.update({name: getattr(details, name).isoformat() if getattr(details, name) else ""
                 for name in DATE_FIELDS})
    data.update({name: getattr(details, name).strftime("%H:%M") if getattr(details, name) else ""
                 for name in TIME_FIELDS})
    data.update({name: "" if getattr(details, name) is None else str(getattr(details, name))
                 for name in ("latitude", "longitude", "places_each")})
    data.update({name: getattr(details, name).value if getattr(details, name) else ""
                 for name in ("kind", "cost_travel", "cost_local_transport", "cost_accommodation",
                              "cost_interpretation")})
    data["invitations"] = [] if details.invite_all_members else [
        {"state_id": str(i.state_id), "places": str(i.places)} for i in details.invitations]
    data["visibility"] = submission.visibility.value
    data["lock_version"] = str(submission.lock_version)
    return data


class ParticipantRow(Form):
    name = StringField(_l("Name"), render_kw={"maxlength": PERSON_MAX})
    rank = StringField(_l("Rank"), render_kw={"maxlength": PERSON_MAX})
    post = StringField(_l("Position"), render_kw={"maxlength": PERSON_MAX})


class AnswerForm(FlaskForm):
    decision = RadioField(_l("Your state's answer"), choices=AnswerDecision.choices, validate_choice=False)
    decline_reason = TextAreaField(_l("Reason for declining (optional)"),
                                   render_kw={"maxlength": TEXT_MAX, "rows": 2},
                                   description=_l("Visits are voluntary: a reason is not required."))
    participants = FieldList(FormField(ParticipantRow), max_entries=MAX_PARTICIPANTS)
    lock_version = HiddenField()


def to_participants(form: AnswerForm) -> list[ParticipantInput]:
    return [ParticipantInput(name=row.form.name.data or "", rank=row.form.rank.data or "",
                             post=row.form.post.data or "") for row in form.participants]


class PostponeForm(FlaskForm):
    start_date = DateText(_l("New start date"))
    start_time = _time(_l("at (local time)"))
    end_date = DateText(_l("New end date"))
    end_time = _time(_l("at (local time)"))
    answer_by = DateText(_l("Invited states answer by"))
    reason = TextAreaField(_l("Reason (sent to the invited states)"), render_kw={"maxlength": TEXT_MAX, "rows": 3})
    lock_version = HiddenField()


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason for cancelling (sent to the invited states)"),
                           render_kw={"maxlength": TEXT_MAX, "rows": 3})
    lock_version = HiddenField()


class LockForm(FlaskForm):
    """A button that changes the visit: the version of the page it was pressed on travels with it."""

    lock_version = HiddenField()


class RequestForm(FlaskForm):
    host_state_id = SingleSelectField(_l("Host state asked"), choices=[], validate_choice=False)
    facility = StringField(_l("Facility"), render_kw={"maxlength": NAME_MAX},
                           description=_l("The facility or unit your state would like to visit."))
    kind = SingleSelectField(_l("Kind of visit"), choices=with_blank(VisitKind.choices), validate_choice=False)
    preferred_from = DateText(_l("Preferred from"))
    preferred_to = DateText(_l("Preferred to"))
    purpose = TextAreaField(_l("Purpose of the visit"), render_kw={"maxlength": TEXT_MAX, "rows": 4})


class DecideRequestForm(FlaskForm):
    decision = RadioField(_l("Your state's answer"), choices=lambda: [("accept", _l("Accept: open a draft offer")),
                                                                     ("decline", _l("Decline"))],
                          validate_choice=False)
    places = _number(_l("Places for the requesting state"))
    reason = TextAreaField(_l("Reason for declining (optional)"), render_kw={"maxlength": TEXT_MAX, "rows": 2})
    lock_version = HiddenField()


class StartPaperForm(FlaskForm):
    idempotency_key = HiddenField()


class PaperForm(FlaskForm):
    visibility = SingleSelectField(_l("Who may see it once accepted"), choices=Visibility.choices,
                                   default=Visibility.MEMBERS.value)
    held_from = DateText(_l("The visit started on"))
    held_to = DateText(_l("The visit ended on"))
    text = TextAreaField(_l("Text"), render_kw={"maxlength": TEXT_MAX, "rows": 8})
    document = FileField(_l("Signed document (PDF, PNG or JPEG, at most 10 MB)"))
    remove_document = BooleanField(_l("Remove the attached document"))
    lock_version = HiddenField()

