"""The API's request and response schemas (pydantic v2). The same classes validate requests and, through
pydantic's JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), make /api/v1/openapi.json.

Request schemas check types and structure (unknown fields are refused: no status, reviewer or state can be
slipped in); ranges and content (numbers of 0 or more, coordinates, control characters, dates in order) are
checked by the same service functions the forms call, with the forms' messages. The schema documents those
ranges too (`json_schema_extra`), so a client sees them before sending.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from registry.calendars.forms import MAX_ENTRIES as MAX_CALENDAR_ENTRIES
from registry.enums import (
    CommentVisibility,
    ExerciseType,
    ParticipantRole,
    PhaseName,
    Role,
    StateStatus,
    SubmissionStatus,
    Visibility,
)
from registry.exercises.forms import MAX_PARTICIPANTS, MAX_PHASES
from registry.exports.writers import FORMATS
from registry.models.exercise import NAME_MAX, SHORT_MAX, TEXT_MAX
from registry.models.submission import SOURCE_DOCUMENT_MAX
from registry.models.visit import FILENAME_MAX
from registry.services.exercise_queries import MAX_PAGE, SEARCH_MAX, SORTS
from registry.services.exercises import COUNT_FIELDS, TEXT_FIELDS
from registry.services.submissions import COMMENT_MAX, LANGUAGES
from registry.services.validation import INT32_MAX


def _literal(values):
    return Literal[tuple(values)]


ExerciseTypeName = _literal(t.value for t in ExerciseType)
ParticipantRoleName = _literal(r.value for r in ParticipantRole)
PhaseNameValue = _literal(p.value for p in PhaseName)
VisibilityName = _literal(v.value for v in Visibility)
StatusName = _literal(s.value for s in SubmissionStatus)
Language = _literal(LANGUAGES)
StateCode = Annotated[StrictStr, Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$", examples=["KZ"])]
Count = Annotated[StrictInt | None, Field(json_schema_extra={"minimum": 0, "maximum": INT32_MAX})]


def _text(limit: int):
    return Annotated[StrictStr | None, Field(max_length=limit)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- exercise notifications: what a filer may send ------------------------------------------------------------


class ParticipantIn(Request):
    state: StateCode = Field(description="Code of a member state or partner, not the conducting state.")
    role: ParticipantRoleName = "participant"  # type: ignore[valid-type]
    contribution: _text(SHORT_MAX) = ""  # type: ignore[valid-type]
    troops: Count = None


class PhaseIn(Request):
    name: PhaseNameValue  # type: ignore[valid-type]
    start_date: date
    end_date: date


_DETAIL_FIELDS: dict[str, Any] = {
    **{name: (_text(limit), None) for name, (limit, _multiline) in TEXT_FIELDS.items()},
    "within_border_zone": (StrictBool, False),
    "observers_invited": (StrictBool, False),
    "is_alert": (StrictBool, False),
    **{name: (Count, None) for name in COUNT_FIELDS},
    "exercise_type": (ExerciseTypeName | None, None),
    "start_date": (date | None, None),
    "end_date": (date | None, None),
    "latitude": (Annotated[StrictFloat | None, Field(json_schema_extra={"minimum": -90, "maximum": 90})], None),
    "longitude": (Annotated[StrictFloat | None, Field(json_schema_extra={"minimum": -180, "maximum": 180})], None),
    "calendar_entry_id": (Annotated[StrictInt | None, Field(description="An entry of the state's accepted "
                                                                        "annual calendar.")], None),
    "participants": (Annotated[list[ParticipantIn], Field(max_length=MAX_PARTICIPANTS)], []),
    "phases": (Annotated[list[PhaseIn], Field(max_length=MAX_PHASES)], []),
}


def _with_details(name: str, base: type, doc: str, extra: dict[str, Any]) -> type:
    from pydantic import create_model

    model = create_model(name, __base__=base, __doc__=doc, **_DETAIL_FIELDS, **extra)
    return model


ExerciseCreate = _with_details(
    "ExerciseCreate", Request,
    "A new draft notification. `state` is required when the Secretariat enters it on a state's behalf (with "
    "`source_document`); an officer files for their own state. Every detail may be left out in a draft; "
    "submitting checks what is required.",
    {"state": (StateCode | None, None), "visibility": (VisibilityName, "members"),
     "original_language": (Language, "ru"), "is_nil": (StrictBool, False),
     "source_document": (_text(SOURCE_DOCUMENT_MAX), None)},
)
ExerciseUpdate = _with_details(
    "ExerciseUpdate", Request,
    "The whole draft (or returned version) as it should be saved: fields left out are emptied.",
    {"visibility": (VisibilityName | None, None), "original_language": (Language | None, None)},
)


class ActionIn(Request):
    comment: _text(COMMENT_MAX) = Field(None, description="Required to return a record for correction.")  # type: ignore[valid-type]


class CommentIn(Request):
    comment: _text(COMMENT_MAX) = None  # type: ignore[valid-type]
    visibility: _literal(v.value for v in CommentVisibility) | None = Field(  # type: ignore[valid-type]
        None, description="Secretariat only: `internal` comments are read by the Secretariat and auditors.")


class ExportJobIn(Request):
    dataset: Annotated[StrictStr, Field(max_length=40, examples=["exercises"])]
    format: _literal(FORMATS)  # type: ignore[valid-type]
    filters: Annotated[dict[str, Annotated[list[Annotated[StrictStr, Field(max_length=200)]], Field(max_length=30)]],
                       Field(max_length=20, description="The list's query-string filters, each a list of values.")] = {}


class BundleIn(Request):
    period_from: date | None = None
    period_to: date | None = None


# --- query strings --------------------------------------------------------------------------------------------


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ExerciseListQuery(Query):
    state: list[StateCode] = Field([], description="State codes (repeat the parameter for several).")
    type: list[ExerciseTypeName] = []  # type: ignore[valid-type]
    status: list[StatusName] = []  # type: ignore[valid-type]
    date_from: date | None = Field(None, alias="from", description="Exercises that end on or after this date.")
    date_to: date | None = Field(None, alias="to", description="Exercises that start on or before this date.")
    year: Annotated[int | None, Field(ge=1990, le=2100)] = None
    late: bool = False
    mandatory: bool = False
    observers: bool = False
    alert: bool = False
    q: Annotated[str | None, Field(max_length=SEARCH_MAX)] = None
    sort: _literal(SORTS) = "start_desc"  # type: ignore[valid-type]
    after: Annotated[str | None, Field(max_length=400, description="`next_cursor` of the previous page.")] = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50


class AuditQuery(Query):
    actor: Annotated[str | None, Field(max_length=254)] = None
    action: Annotated[str | None, Field(max_length=64)] = None
    state: Annotated[str | None, Field(max_length=2)] = None
    object: Annotated[str | None, Field(max_length=64)] = None
    date_from: date | None = None
    date_to: date | None = None
    outcome: _literal(("success", "failure", "denied")) | None = None  # type: ignore[valid-type]
    before: Annotated[int | None, Field(ge=1, le=2**63 - 1, description="`next_before` of the previous page.")] = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


# --- responses ------------------------------------------------------------------------------------------------


class Names(Response):
    en: str
    ru: str
    zh: str


class StatePeriodOut(Response):
    status: _literal(s.value for s in StateStatus)  # type: ignore[valid-type]
    valid_from: date
    valid_to: date | None
    source: str


class StateOut(Response):
    code: str
    iso3: str
    names: Names
    status: str | None = Field(description="Status today; null when the state has none now.")
    history: list[StatePeriodOut] | None = None


class StateList(Response):
    items: list[StateOut]


class Finding(Response):
    code: str
    severity: Literal["error", "warning"]
    field: str | None
    message: str
    profile: str | None = None
    params: dict[str, Any] = {}


class ParticipantOut(Response):
    state: str | None
    role: str | None
    contribution: str | None
    troops: int | None


class PhaseOut(Response):
    name: str
    start_date: date
    end_date: date


_DETAIL_OUT: dict[str, Any] = {
    **{name: (str | None, None) for name in TEXT_FIELDS},
    "within_border_zone": (bool, False), "observers_invited": (bool, False), "is_alert": (bool, False),
    **{name: (int | None, None) for name in COUNT_FIELDS},
    "exercise_type": (str | None, None), "start_date": (date | None, None), "end_date": (date | None, None),
    "latitude": (float | None, None), "longitude": (float | None, None), "calendar_entry_id": (int | None, None),
    "lead_time_days": (int | None, None), "mandatory_notification": (bool, False),
    "observers_required": (bool, False),
    "participants": (list[ParticipantOut], []), "phases": (list[PhaseOut], []),
}


def _details_out():
    from pydantic import create_model

    return create_model("ExerciseDetailsOut", __base__=Response, **_DETAIL_OUT)


ExerciseDetailsOut = _details_out()


class Envelope(Response):
    reference: str
    record_type: str
    state: str
    status: StatusName  # type: ignore[valid-type]
    visibility: VisibilityName  # type: ignore[valid-type]
    is_nil: bool
    is_late: bool
    due_date: date | None
    original_language: str
    entered_on_behalf: bool
    source_document: str | None
    version: int = Field(description="The record's lock version; the ETag is this number in quotes.")
    revision_no: int | None = Field(description="The version of the details shown (working or accepted).")
    current_revision_no: int | None
    accepted_revision_no: int | None
    created_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    actions: list[str] = Field(description="Workflow actions this token's owner may take now.")


class ExerciseOut(Envelope):
    exercise: ExerciseDetailsOut | None  # type: ignore[valid-type]
    findings: list[Finding] = Field([], description="The profiles' checks, for the filing state and reviewers.")


class ExerciseList(Response):
    items: list[ExerciseOut]
    next_cursor: str | None


class RecordOut(Envelope):
    """Any record type's envelope (the workflow endpoints answer with it)."""


class EventOut(Response):
    id: int
    action: str
    from_status: str | None
    to_status: str | None
    revision_no: int
    actor: str
    occurred_at: datetime
    comment: str | None
    comment_visibility: str | None


class EventList(Response):
    items: list[EventOut]


class QueueItemOut(Response):
    reference: str
    record_type: str
    state: str
    status: str
    revision_no: int
    waiting_since: datetime
    age_days: int
    warnings: int


class QueueOut(Response):
    items: list[QueueItemOut]
    truncated: bool


class AuditEntryOut(Response):
    seq: int
    occurred_at: datetime
    actor: str
    actor_role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    state_code: str | None
    outcome: str
    changes: dict[str, Any] | None
    hash: str


class AuditPage(Response):
    items: list[AuditEntryOut]
    next_before: int | None


class ExportJobOut(Response):
    id: int
    kind: str
    dataset: str | None
    format: str
    filters: dict[str, Any]
    status: Literal["queued", "running", "done", "failed", "expired"]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    rows_done: int
    rows_total: int | None
    size: int | None
    sha256: str | None
    error: str | None
    file_url: str | None


class ExportJobList(Response):
    items: list[ExportJobOut]


class MeOut(Response):
    email: str
    display_name: str
    role: _literal(r.value for r in Role)  # type: ignore[valid-type]
    state: str | None
    token_name: str
    scopes: list[str]
    token_expires_at: datetime


class ProblemDetail(Response):
    pointer: str = Field(description="JSON pointer into the request body ('' for the whole request).")
    field: str
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemDetail] | None = None


# --- annual calendars -----------------------------------------------------------------------------------------


class CalendarEntryIn(Request):
    designation: _text(NAME_MAX)  # type: ignore[valid-type]
    exercise_type: ExerciseTypeName  # type: ignore[valid-type]
    planned_start: date
    planned_end: date
    area: _text(SHORT_MAX) = ""  # type: ignore[valid-type]
    troops: Count = None


class CalendarUpdate(Request):
    """The whole draft calendar as it should be saved."""

    remarks: _text(TEXT_MAX) = ""  # type: ignore[valid-type]
    entries: Annotated[list[CalendarEntryIn], Field(max_length=MAX_CALENDAR_ENTRIES)] = []
    visibility: VisibilityName | None = None  # type: ignore[valid-type]
    is_nil: StrictBool | None = None


class CalendarCreate(Request):
    """A new draft calendar for `year` (one per state and year). `state` as for exercise notifications."""

    state: StateCode | None = None
    year: Annotated[StrictInt, Field(json_schema_extra={"minimum": 1990, "maximum": 2100})]
    remarks: _text(TEXT_MAX) = ""  # type: ignore[valid-type]
    entries: Annotated[list[CalendarEntryIn], Field(max_length=MAX_CALENDAR_ENTRIES)] = []
    visibility: VisibilityName = "members"  # type: ignore[valid-type]
    original_language: Language = "ru"  # type: ignore[valid-type]
    is_nil: StrictBool = False
    source_document: _text(SOURCE_DOCUMENT_MAX) = None  # type: ignore[valid-type]


class CalendarListQuery(Query):
    year: Annotated[int | None, Field(ge=1990, le=2100)] = None
    state: StateCode | None = None


class CalendarEntryOut(Response):
    id: int
    designation: str
    exercise_type: str
    planned_start: date
    planned_end: date
    area: str | None
    troops: int | None


class CalendarDetailsOut(Response):
    year: int
    remarks: str | None
    entries: list[CalendarEntryOut]


class CalendarOut(Envelope):
    calendar: CalendarDetailsOut | None


class CalendarSummary(Envelope):
    year: int
    entry_count: int


class CalendarList(Response):
    items: list[CalendarSummary]
    truncated: bool


# --- voluntary visits -----------------------------------------------------------------------------------------


def _visit_fields() -> dict[str, Any]:
    from registry.enums import CostBearer, VisitKind
    from registry.models.visit import COST_FIELDS
    from registry.services import visits

    time_text = Annotated[StrictStr | None, Field(max_length=5, description="HH:MM, 24-hour clock.",
                                                  examples=["09:30"])]
    return {
        **{name: (_text(limit), None) for name, (limit, _multiline) in visits.TEXT_FIELDS.items()},
        **{name: (StrictBool, False) for name in visits.BOOL_FIELDS},
        **{name: (date | None, None) for name in visits.DATE_FIELDS},
        **{name: (time_text, None) for name in visits.TIME_FIELDS},
        **{name: (_literal(c.value for c in CostBearer) | None, None) for name in COST_FIELDS},
        "kind": (_literal(k.value for k in VisitKind) | None, None),
        "latitude": (Annotated[StrictFloat | None, Field(json_schema_extra={"minimum": -90, "maximum": 90})], None),
        "longitude": (Annotated[StrictFloat | None, Field(json_schema_extra={"minimum": -180, "maximum": 180})],
                      None),
        "places_each": (Annotated[StrictInt | None, Field(json_schema_extra={"minimum": 1,
                                                                             "maximum": visits.MAX_PLACES})], None),
        "invitations": (Annotated[list[InvitationIn], Field(max_length=40)], []),
    }


class InvitationIn(Request):
    state: StateCode
    places: Annotated[StrictInt | None, Field(json_schema_extra={"minimum": 1, "maximum": 50})] = None


def _visit_models():
    from pydantic import create_model

    fields = _visit_fields()
    create = create_model(
        "VisitOfferCreate", __base__=Request, __doc__="A new draft visit offer by the host state (`state` as for "
        "exercise notifications). With `invite_all_members`, every member state today gets `places_each` places; "
        "otherwise the `invitations` list says who and how many.",
        **fields, state=(StateCode | None, None), visibility=(_literal(("members", "public")), "members"),
        original_language=(Language, "ru"), source_document=(_text(SOURCE_DOCUMENT_MAX), None))
    update = create_model("VisitOfferUpdate", __base__=Request, __doc__="The whole draft offer as it should be saved.",
                          **fields, visibility=(_literal(("members", "public")) | None, None))
    out = create_model("VisitDetailsOut", __base__=Response,
                       **{name: (Any, None) for name in fields if name != "invitations"},
                       invitations=(list[InvitationOut], []))
    return create, update, out


class InvitationOut(Response):
    state: str
    places: int


VisitOfferCreate, VisitOfferUpdate, VisitDetailsOut = _visit_models()


class VisitParticipantIn(Request):
    name: Annotated[StrictStr, Field(max_length=200)]
    rank: Annotated[StrictStr, Field(max_length=200)] = ""
    post: Annotated[StrictStr, Field(max_length=200)] = ""


class VisitAnswerIn(Request):
    """An invited state's answer. Replacing an earlier answer needs If-Match with that answer's `version`."""

    decision: _literal(("accepted", "declined"))  # type: ignore[valid-type]
    participants: Annotated[list[VisitParticipantIn], Field(max_length=60)] = []
    decline_reason: _text(TEXT_MAX) = ""  # type: ignore[valid-type]


class VisitParticipantOut(Response):
    name: str
    rank: str
    post: str


class VisitAnswerOut(Response):
    state: str
    decision: str
    places: int
    participant_count: int
    answered_at: datetime
    version: int
    participants: list[VisitParticipantOut] | None = Field(
        description="Names for the host, the Secretariat, auditors and the answering state; null for others.")


class VisitLife(Response):
    version: int = Field(description="The visit's own version: If-Match of postpone, held and cancel.")
    status: str
    start_date: date | None
    end_date: date | None
    answer_by: date | None
    invitations_sent_at: datetime | None
    held_on: date | None
    cancel_reason: str | None
    postponements: int


class VisitOut(Envelope):
    offer: VisitDetailsOut | None  # type: ignore[valid-type]
    visit: VisitLife
    answers: list[VisitAnswerOut]


class VisitSummary(Envelope):
    visit: VisitLife
    facility_en: str | None
    kind: str | None


class VisitList(Response):
    items: list[VisitSummary]
    truncated: bool


class VisitListQuery(Query):
    when: _literal(("upcoming", "past", "all")) = "upcoming"  # type: ignore[valid-type]
    host: StateCode | None = None
    invited: StateCode | None = None
    kind: Annotated[str | None, Field(max_length=40)] = None
    status: Annotated[str | None, Field(max_length=40)] = None
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")


# --- defence-ministry structure disclosures -------------------------------------------------------------------


class StructureCreate(Request):
    """A new draft disclosure as of 1 January of `year`; it starts as a copy of the state's last accepted one."""

    state: StateCode | None = None
    year: Annotated[StrictInt, Field(json_schema_extra={"minimum": 1990, "maximum": 2100})]
    visibility: VisibilityName = "members"  # type: ignore[valid-type]
    original_language: Language = "ru"  # type: ignore[valid-type]
    source_document: _text(SOURCE_DOCUMENT_MAX) = None  # type: ignore[valid-type]


class StructureUpdate(Request):
    """The ministry's names (the chart itself is replaced with PUT .../chart)."""

    ministry_name_ru: _text(NAME_MAX) = ""  # type: ignore[valid-type]
    ministry_name_zh: _text(NAME_MAX) = ""  # type: ignore[valid-type]
    ministry_name_en: _text(NAME_MAX) = ""  # type: ignore[valid-type]
    ministry_name_native: _text(NAME_MAX) = ""  # type: ignore[valid-type]
    visibility: VisibilityName | None = None  # type: ignore[valid-type]


class StructureOut(Envelope):
    structure: dict[str, Any] | None = Field(description="The chart as the snapshot stores it: as_of, ministry "
                                                         "names, units with their posts and holders.")
    findings: list[Finding] = []


class StructureSummary(Envelope):
    as_of: date


class StructureList(Response):
    items: list[StructureSummary]
    truncated: bool


class VisitPostponeIn(Request):
    start_date: date | None = None
    end_date: date | None = None
    answer_by: date | None = None
    start_time: Annotated[StrictStr | None, Field(max_length=5, description="HH:MM, 24-hour clock.")] = None
    end_time: Annotated[StrictStr | None, Field(max_length=5, description="HH:MM, 24-hour clock.")] = None
    reason: _text(TEXT_MAX) = ""  # type: ignore[valid-type]


class VisitCancelIn(Request):
    reason: _text(TEXT_MAX) = None  # type: ignore[valid-type]


class Empty(Request):
    """No fields."""


# --- inquiries about a notified exercise (1996 agreement, art. 9) -----------------------------------------------


class InquiryIn(Request):
    question: _text(4000) = None  # type: ignore[valid-type]
    emergency: StrictBool = False


class InquiryAnswerIn(Request):
    answer: _text(4000) = None  # type: ignore[valid-type]


class InquiryOut(Response):
    id: int
    asking_state: str
    asked_at: datetime
    question: str
    emergency: bool
    due_at: datetime
    answer: str | None
    answered_at: datetime | None
    overdue: bool


class InquiryList(Response):
    items: list[InquiryOut]


# --- after a visit: the host's report and the visiting states' remarks (services/visit_papers.py) -------------


class PaperCreate(Request):
    """A new draft report (the host state) or remarks (a state that took part) about a held visit.
    The Secretariat opening the host's report on its behalf names the state's document in `source_document`."""

    visibility: VisibilityName = "members"  # type: ignore[valid-type]
    original_language: Language = "ru"  # type: ignore[valid-type]
    source_document: _text(SOURCE_DOCUMENT_MAX) = None  # type: ignore[valid-type]


class PaperUpdate(Request):
    """The whole draft as it should be saved (the signed document is sent with PUT .../document).
    `held_from` and `held_to` belong to the report only."""

    text: _text(TEXT_MAX) = ""  # type: ignore[valid-type]
    held_from: date | None = None
    held_to: date | None = None
    remove_document: StrictBool = Field(False, description="Detach the signed document of the draft.")
    visibility: VisibilityName | None = None  # type: ignore[valid-type]


class PaperDocumentQuery(Query):
    filename: Annotated[StrictStr | None, Field(max_length=FILENAME_MAX, description=(
        "The document's name, for a raw body (multipart/form-data carries its own); by default the record's "
        "reference."))] = None


class PaperDocumentOut(Response):
    filename: str
    content_type: str = Field(description="From the content itself (PDF, PNG or JPEG), not from the request.")
    size: int
    sha256: str
    url: str = Field(description="Where to download it (with X-Checksum-SHA256).")


class PaperDetailsOut(Response):
    visit: str = Field(description="The visit's reference.")
    held_from: date | None
    held_to: date | None
    text: str | None
    document: PaperDocumentOut | None


class PaperOut(Envelope):
    paper: PaperDetailsOut | None
    findings: list[Finding] = []


# --- requests for a visit: a state asks another; the host accepts or declines (services/visit_requests.py) ----


class VisitRequestIn(Request):
    """Your state asks `host` (a member state) for a visit to a named facility."""

    host: StateCode
    facility: _text(NAME_MAX) = None  # type: ignore[valid-type]
    kind: Annotated[StrictStr | None, Field(max_length=40, description="A visit kind, as for offers.")] = None
    preferred_from: date | None = None
    preferred_to: date | None = None
    purpose: _text(TEXT_MAX) = None  # type: ignore[valid-type]


class VisitRequestAcceptIn(Request):
    places: Annotated[StrictInt, Field(json_schema_extra={"minimum": 1, "maximum": 50},
                                       description="Places offered to the requesting state.")] = 2


class VisitRequestDeclineIn(Request):
    reason: _text(TEXT_MAX) = ""  # type: ignore[valid-type]


class VisitRequestOut(Response):
    reference: str
    version: int = Field(description="If-Match of accept, decline and withdraw.")
    status: str
    requesting_state: str
    host_state: str
    kind: str | None
    facility: str
    preferred_from: date | None
    preferred_to: date | None
    purpose: str
    created_at: datetime
    decided_at: datetime | None
    decline_reason: str
    offer: str | None = Field(description="The host's draft offer opened by accepting (a visit reference).")
    actions: list[str]


class VisitRequestList(Response):
    items: list[VisitRequestOut]
    truncated: bool
