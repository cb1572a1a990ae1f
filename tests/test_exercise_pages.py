"""The exercise notification form and record page, through the web client with CSRF, on both backends."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from registry.db import db, utcnow
from registry.enums import SubmissionStatus
from registry.models import (
    AuditEntry,
    ExerciseDetails,
    Inquiry,
    MemberState,
    Revision,
    Submission,
)
from registry.services import exercises
from registry.services import submissions as svc
from tests.conftest import csrf_token, login
from tests.factories import make_calendar, user

NEW = "/exercises/new"
CHANGED = "This record changed since you opened it."
OBSERVERS = "Observers must be invited"


def day(offset: int) -> str:
    return (utcnow().date() + timedelta(days=offset)).isoformat()


def state_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(MemberState.id).where(MemberState.code == code))


def valid_form(app, **overrides) -> dict:
    """A complete notification of 14,000 troops starting in 60 days, observers invited: it can be submitted."""
    data = {
        "visibility": "members", "original_language": "ru",
        "designation_ru": "Мирная миссия-2026", "designation_zh": "和平使命-2026",
        "designation_en": "Peace Mission 2026",
        "exercise_type": "joint_multinational", "purpose": "Counter-terrorism cooperation",
        "command_level": "Military district", "headquarters": "Regional command South",
        "start_date": day(60), "end_date": day(70),
        "area_description": "Matybulak training ground", "latitude": "43.25", "longitude": "76.95",
        "within_border_zone": "", "border_segment": "",
        "troops_total": "14000", "troops_ground": "12000", "troops_air": "2000",
        "battle_tanks": "120", "acv": "300", "artillery": "80", "combat_aircraft": "24", "helicopters": "18",
        "sorties": "90", "warships": "0", "amphibious_airborne": "500",
        "observers_invited": "y", "observer_programme": "Days 3 and 4 at the active phase",
        "observer_places_per_state": "2", "observer_arrival_point": "Almaty airport",
        "calendar_entry_id": "", "not_forecast_reason": "Agreed after the calendar was sent",
        "is_alert": "", "alert_justification": "", "late_explanation": "",
        "participants-0-state_id": str(state_id(app, "KG")), "participants-0-role": "participant",
        "participants-0-contribution": "Motor rifle company", "participants-0-troops": "300",
        "phases-0-name": "active", "phases-0-start_date": day(62), "phases-0-end_date": day(68),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, url: str, data: dict, action: str = "save", token_from: str | None = None, **kwargs):
    token = csrf_token(client, token_from or url)
    return client.post(url, data={**data, "action": action, "csrf_token": token}, **kwargs)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def error_beside(response, field_id: str) -> str:
    page = response.get_data(as_text=True)
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else ""


def input_value(response, name: str) -> str | None:
    page = response.get_data(as_text=True)
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def selected(response, name: str) -> str | None:
    page = response.get_data(as_text=True)
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    if not match:
        return None
    for option in re.findall(r"<option[^>]*>", match.group(1)):
        if re.search(r"\sselected[\s>=]", option):
            return html.unescape(re.search(r'value="([^"]*)"', option).group(1))
    return ""


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Submission)),
                db.session.scalar(select(func.count()).select_from(ExerciseDetails)),
                db.session.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action.like("exercise.%") | AuditEntry.action.like("submission.%"))))


def only_submission(app) -> Submission:
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        db.session.expunge(submission)
        return submission


def current_details(app, reference: str) -> dict:
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.reference == reference))
        details = exercises.details_of(submission.current_revision)
        return exercises.snapshot_details(details)


def client_for(app, make_user, role="officer", state_code="KZ"):
    client = app.test_client()
    person = make_user(role=role, state=state_code)
    assert login(client, person).status_code == 302
    return client, person


def create_via_web(app, client, **overrides) -> str:
    response = post(client, NEW, valid_form(app, **overrides))
    assert response.status_code == 302, text_of(response)
    return response.headers["Location"].split("/")[-2]


def drive(app, reference: str, *steps):
    """Apply workflow steps through the services: ("accept", user_id), ("amend", user_id), ..."""
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.reference == reference))
        for action, user_id in steps:
            svc.perform(user(user_id), submission, action, comment=f"{action} comment")
        db.session.commit()


# --- creating and editing --------------------------------------------------------------------------------


def test_officer_creates_a_draft_and_every_value_comes_back(app, client, login_as):
    officer = login_as("officer", "KZ")
    form = valid_form(app)
    response = post(client, NEW, form)
    assert response.status_code == 302
    submission = only_submission(app)
    assert response.headers["Location"].endswith(f"/exercises/{submission.reference}/edit")
    assert submission.status == SubmissionStatus.DRAFT
    assert submission.state_id == state_id(app, "KZ")
    assert submission.created_by_id == officer.id

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert f"Saved as a draft: {submission.reference}." in text_of(page)
    for name, value in form.items():
        if name in ("within_border_zone", "is_alert", "border_segment", "alert_justification", "late_explanation"):
            continue
        if name in ("exercise_type", "visibility", "original_language", "calendar_entry_id") or name.endswith(
                ("-state_id", "-role", "-name")):
            assert selected(page, name) == value, name
        elif name in ("purpose", "area_description", "observer_programme", "not_forecast_reason"):
            assert value in text_of(page), name
        elif name == "observers_invited":
            assert re.search(r'<input[^>]*checked[^>]*name="observers_invited"|<input[^>]*name="observers_invited"'
                             r'[^>]*checked', page.get_data(as_text=True))
        else:
            assert input_value(page, name) == value, name
    stored = current_details(app, submission.reference)
    assert stored["troops_total"] == 14000
    assert stored["participants"] == [{"state": "KG", "role": "participant", "contribution": "Motor rifle company",
                                       "troops": 300}]
    assert stored["phases"][0]["name"] == "active"


def test_rows_are_added_and_removed_without_saving_anything(app, client, login_as):
    login_as("officer", "KZ")
    kg, tj = str(state_id(app, "KG")), str(state_id(app, "TJ"))
    form = valid_form(app, **{"participants-1-state_id": tj, "participants-1-role": "co_organiser",
                              "participants-1-contribution": "Airborne battalion", "participants-1-troops": "450"})

    added = post(client, NEW, form, action="add_participant")
    assert added.status_code == 200
    assert selected(added, "participants-0-state_id") == kg
    assert selected(added, "participants-1-state_id") == tj
    assert selected(added, "participants-2-state_id") == ""  # the new, empty row
    assert input_value(added, "designation_en") == "Peace Mission 2026"
    assert input_value(added, "troops_total") == "14000"

    removed = post(client, NEW, form, action="remove_participant-0")
    assert removed.status_code == 200
    assert selected(removed, "participants-0-state_id") == tj  # the second row moved up, as typed
    assert input_value(removed, "participants-0-contribution") == "Airborne battalion"
    assert input_value(removed, "participants-0-troops") == "450"
    assert selected(removed, "participants-1-state_id") is None

    phase = post(client, NEW, form, action="add_phase")
    assert selected(phase, "phases-0-name") == "active"
    assert selected(phase, "phases-1-name") == ""
    no_phase = post(client, NEW, form, action="remove_phase-0")
    assert selected(no_phase, "phases-0-name") is None
    assert "No phases listed." in text_of(no_phase)
    assert counts(app) == (0, 0, 0)


def test_rows_buttons_on_the_edit_page_keep_the_draft_unchanged(app, client, login_as):
    login_as("officer", "KZ")
    reference = create_via_web(app, client)
    before = current_details(app, reference)
    edit = f"/exercises/{reference}/edit"
    page = post(client, edit, valid_form(app, designation_en="Typed, not saved", lock_version="1"),
                action="add_phase")
    assert page.status_code == 200
    assert input_value(page, "designation_en") == "Typed, not saved"
    assert selected(page, "phases-1-name") == ""
    assert current_details(app, reference) == before


def test_save_and_submit_stops_on_observers_then_submits_once_fixed(app, client, login_as):
    login_as("officer", "KZ")
    form = valid_form(app, observers_invited="")
    response = post(client, NEW, form, action="submit")
    assert response.status_code == 302
    reference = only_submission(app).reference
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert OBSERVERS in error_beside(page, "observers_invited")
    assert "cannot be submitted yet" in text_of(page)
    assert input_value(page, "troops_total") == "14000"  # what was typed is on the form
    assert only_submission(app).status == SubmissionStatus.DRAFT

    lock = input_value(page, "lock_version")
    fixed = post(client, f"/exercises/{reference}/edit", {**form, "observers_invited": "y", "lock_version": lock},
                 action="submit")
    assert fixed.status_code == 302
    assert fixed.headers["Location"].endswith(f"/exercises/{reference}")
    submission = only_submission(app)
    assert submission.status == SubmissionStatus.SUBMITTED
    detail = client.get(fixed.headers["Location"])
    assert "was submitted for review" in text_of(detail)


def test_save_and_submit_from_the_edit_page_shows_the_error_beside_the_field(app, client, login_as):
    login_as("officer", "KZ")
    reference = create_via_web(app, client)
    edit = f"/exercises/{reference}/edit"
    lock = input_value(client.get(edit), "lock_version")
    response = post(client, edit, valid_form(app, observers_invited="", lock_version=lock), action="submit",
                    follow_redirects=True)
    assert response.status_code == 200
    assert OBSERVERS in error_beside(response, "observers_invited")
    assert only_submission(app).status == SubmissionStatus.DRAFT
    assert current_details(app, reference)["observers_invited"] is False  # the save itself was kept


def test_warnings_of_the_draft_are_shown_on_the_form(app, client, login_as):
    login_as("officer", "KZ")
    reference = create_via_web(app, client, troops_total="12700", troops_ground="10700")
    page = client.get(f"/exercises/{reference}/edit")
    assert "just below the threshold of 13000" in text_of(page)


def test_reviewer_sees_the_record_with_its_findings(app, client, login_as, make_user):
    login_as("officer", "KZ")
    reference = create_via_web(app, client)
    drive(app, reference, ("submit", only_submission(app).created_by_id))
    reviewer_client, _ = client_for(app, make_user, role="secretariat")
    page = reviewer_client.get(f"/exercises/{reference}")
    assert page.status_code == 200
    body = text_of(page)
    assert "Checks" in body
    assert "This notifiable activity was not in the annual calendar." in body
    assert "Peace Mission 2026" in body and "Мирная миссия-2026" in body
    assert "Kyrgyzstan" in body and "Motor rifle company" in body
    assert "Active phase" in body
    assert "Accept" in body  # the reviewer's workflow buttons


def test_other_state_sees_only_the_accepted_version(app, client, login_as, make_user):
    officer = login_as("officer", "KZ")
    reference = create_via_web(app, client)
    other, _ = client_for(app, make_user, state_code="CN")
    assert other.get(f"/exercises/{reference}").status_code == 404
    assert other.get(f"/exercises/{reference}/edit").status_code == 404

    reviewer = make_user("secretariat")
    drive(app, reference, ("submit", officer.id), ("accept", reviewer.id), ("amend", officer.id))
    edit = f"/exercises/{reference}/edit"
    lock = input_value(client.get(edit), "lock_version")
    saved = post(client, edit, valid_form(app, designation_en="Amended name", lock_version=lock))
    assert saved.status_code == 302

    page = other.get(f"/exercises/{reference}")
    assert page.status_code == 200
    body = text_of(page)
    assert "Peace Mission 2026" in body
    assert "Amended name" not in body
    assert "This notifiable activity was not in the annual calendar." not in body  # the checks are internal
    assert other.get(f"/exercises/{reference}?a=1&b=2").status_code == 404  # the draft version is not readable
    assert "Amended name" in text_of(client.get(f"/exercises/{reference}"))  # the own state sees its draft


def test_a_stale_lock_version_keeps_what_was_typed(app, client, login_as):
    login_as("officer", "KZ")
    reference = create_via_web(app, client)
    edit = f"/exercises/{reference}/edit"
    stale = input_value(client.get(edit), "lock_version")
    first = post(client, edit, valid_form(app, designation_en="First tab", lock_version=stale))
    assert first.status_code == 302
    second = post(client, edit, valid_form(app, designation_en="Second tab", purpose="Typed in the second tab",
                                           lock_version=stale))
    assert second.status_code == 409
    assert CHANGED in text_of(second)
    assert input_value(second, "designation_en") == "Second tab"
    assert "Typed in the second tab" in text_of(second)
    assert current_details(app, reference)["designation_en"] == "First tab"


def test_a_form_without_its_lock_version_is_refused(app, client, login_as):
    login_as("officer", "KZ")
    reference = create_via_web(app, client)
    response = post(client, f"/exercises/{reference}/edit", valid_form(app, designation_en="Blind"))
    assert response.status_code == 409
    assert current_details(app, reference)["designation_en"] == "Peace Mission 2026"


def test_editing_a_submitted_record_is_refused_with_a_message(app, client, login_as):
    officer = login_as("officer", "KZ")
    reference = create_via_web(app, client)
    drive(app, reference, ("submit", officer.id))
    response = client.get(f"/exercises/{reference}/edit", follow_redirects=True)
    assert response.status_code == 200
    assert "it cannot be edited now" in text_of(response)


def test_only_filers_open_the_form(app, client, login_as, make_user):
    for role in ("auditor", "admin"):
        other, _ = client_for(app, make_user, role=role)
        assert other.get(NEW).status_code == 403
    login_as("officer", "KZ")
    assert client.get(NEW).status_code == 200


# --- bad input ---------------------------------------------------------------------------------------------


BAD_INPUT = {
    "nul-designation": ({"designation_en": "Peace\x00Mission"}, "designation_en", "control characters"),
    "nul-purpose": ({"purpose": "a\x00b"}, "purpose", "control characters"),
    "troops-2**31": ({"troops_total": str(2**31)}, "troops_total", "too large"),
    "troops-text": ({"troops_total": "14,000"}, "troops_total", "Enter a whole number."),
    "troops-1e309": ({"troops_total": "1e309"}, "troops_total", "Enter a whole number."),
    "tanks-negative": ({"battle_tanks": "-1"}, "battle_tanks", "0 or more"),
    "end-before-start": ({"end_date": day(50)}, "end_date", "cannot be before the start date"),
    "no-such-date": ({"start_date": "2027-02-29"}, "start_date", "Enter a date as YYYY-MM-DD."),
    "year-zero": ({"start_date": "0000-00-00"}, "start_date", "Enter a date as YYYY-MM-DD."),
    "latitude-91": ({"latitude": "91"}, "latitude", "-90 to 90"),
    "longitude--181": ({"longitude": "-181"}, "longitude", "-180 to 180"),
    "latitude-nan": ({"latitude": "nan"}, "latitude", "-90 to 90"),
    "unknown-state": ({"participants-0-state_id": "999999"}, "participants-0-state_id", "Choose a member state"),
    "huge-state-id": ({"participants-0-state_id": str(2**63)}, "participants-0-state_id", "Choose a member state"),
    "own-state-participates": ({"participants-0-state_id": "KZ"}, "participants-0-state_id", "conducting state"),
    "participant-troops-negative": ({"participants-0-troops": "-5"}, "participants-0-troops", "0 or more"),
    "phase-end-before-start": ({"phases-0-end_date": day(61)}, "phases-0-end_date", "cannot be before"),
    "phase-unknown-name": ({"phases-0-name": "holiday"}, "phases-0-name", "Choose a value from the list."),
    "unknown-type": ({"exercise_type": "parade"}, "exercise_type", "Choose a value from the list."),
    "long-designation": ({"designation_ru": "я" * 301}, "designation_ru", "At most 300 characters."),
    "calendar-entry-forged": ({"calendar_entry_id": "424242"}, "calendar_entry_id", "accepted annual calendar"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_on_the_new_form(app, client, login_as, case):
    login_as("officer", "KZ")
    overrides, field_id, message = BAD_INPUT[case]
    if overrides.get("participants-0-state_id") == "KZ":
        overrides = {"participants-0-state_id": str(state_id(app, "KZ"))}
    response = post(client, NEW, valid_form(app, **overrides))
    assert response.status_code == 200
    assert message in error_beside(response, field_id), text_of(response)[:3000]
    assert counts(app) == (0, 0, 0)
    # Everything else typed is still on the form.
    assert input_value(response, "observer_arrival_point") == "Almaty airport"


@pytest.mark.parametrize("case", ["nul-designation", "troops-2**31", "tanks-negative", "end-before-start",
                                  "latitude-91", "longitude--181", "unknown-state"])
def test_bad_input_on_the_edit_form_changes_nothing(app, client, login_as, case):
    login_as("officer", "KZ")
    reference = create_via_web(app, client)
    before = current_details(app, reference)
    edit = f"/exercises/{reference}/edit"
    lock = input_value(client.get(edit), "lock_version")
    overrides, field_id, message = BAD_INPUT[case]
    response = post(client, edit, valid_form(app, lock_version=lock, **overrides))
    assert response.status_code == 200
    assert message in error_beside(response, field_id)
    assert current_details(app, reference) == before


def test_duplicated_select_keys_are_refused(app, client, login_as):
    login_as("officer", "KZ")
    token = csrf_token(client, NEW)
    data = list(valid_form(app).items()) + [("exercise_type", "live_fire"), ("action", "save"),
                                            ("csrf_token", token)]
    response = client.post(NEW, data=MultiDict(data))
    assert response.status_code == 200
    assert "Choose only one value." in error_beside(response, "exercise_type")
    assert counts(app) == (0, 0, 0)


def test_forged_status_and_state_fields_are_ignored(app, client, login_as):
    login_as("officer", "KZ")
    response = post(client, NEW, valid_form(app, status="accepted", state_id=str(state_id(app, "CN")),
                                            accepted_revision_no="1", entered_on_behalf="y",
                                            source_document="forged"))
    assert response.status_code == 302
    submission = only_submission(app)
    assert submission.status == SubmissionStatus.DRAFT
    assert submission.state_id == state_id(app, "KZ")
    assert submission.accepted_revision_no is None
    assert not submission.entered_on_behalf and submission.source_document is None


def test_markup_is_shown_as_text(app, client, login_as):
    login_as("officer", "KZ")
    reference = create_via_web(app, client, designation_en="<script>alert(1)</script>", purpose="{{7*7}}")
    page = client.get(f"/exercises/{reference}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{7*7}}" in page and ">49<" not in page


def test_unknown_references_are_not_found(app, client, login_as):
    login_as("officer", "KZ")
    for reference in ("EXN-2026-9999", "EXN\x00", "x" * 300, "%00"):
        assert client.get(f"/exercises/{reference}").status_code == 404


# --- the Secretariat entering on a state's behalf ----------------------------------------------------------


def test_secretariat_entry_on_behalf_needs_the_source_document(app, client, login_as):
    reviewer = login_as("secretariat")
    form = valid_form(app, state_id=str(state_id(app, "KZ")), source_document="")
    page = client.get(NEW)
    assert 'name="state_id"' in page.get_data(as_text=True)
    assert 'name="source_document"' in page.get_data(as_text=True)

    refused = post(client, NEW, form)
    assert refused.status_code == 200
    assert "This field is required." in error_beside(refused, "source_document")
    assert counts(app) == (0, 0, 0)

    no_state = post(client, NEW, {**form, "state_id": "", "source_document": "Note verbale No. 12/345"})
    assert no_state.status_code == 200
    assert "Choose a member state" in error_beside(no_state, "state_id")
    assert counts(app) == (0, 0, 0)

    created = post(client, NEW, {**form, "source_document": "Note verbale No. 12/345 of 3 March"})
    assert created.status_code == 302
    submission = only_submission(app)
    assert submission.entered_on_behalf
    assert submission.source_document == "Note verbale No. 12/345 of 3 March"
    assert submission.state_id == state_id(app, "KZ")
    assert submission.created_by_id == reviewer.id
    detail = client.get(f"/exercises/{submission.reference}")
    assert "Note verbale No. 12/345 of 3 March" in text_of(detail)


def test_officer_form_has_no_state_choice(app, client, login_as):
    login_as("officer", "KZ")
    page = client.get(NEW).get_data(as_text=True)
    assert 'name="state_id"' not in page
    assert 'name="source_document"' not in page
    assert "Kazakhstan" in page


# --- inquiries -------------------------------------------------------------------------------------------


@pytest.fixture
def accepted(app, client, login_as, make_user):
    """An accepted notification of Kazakhstan; the officer of Kazakhstan is signed in on `client`."""
    officer = login_as("officer", "KZ")
    reference = create_via_web(app, client)
    reviewer = make_user("secretariat")
    drive(app, reference, ("submit", officer.id), ("accept", reviewer.id))
    return reference


def test_inquiry_asked_by_another_state_and_answered(app, client, make_user, accepted):
    reference = accepted
    asker, _ = client_for(app, make_user, state_code="CN")
    page = asker.get(f"/exercises/{reference}")
    assert 'name="question"' in page.get_data(as_text=True)

    asked = post(asker, f"/exercises/{reference}/inquiries",
                 {"question": "Which units take part in the active phase?", "emergency": "y"},
                 token_from=f"/exercises/{reference}")
    assert asked.status_code == 302
    with app.app_context():
        inquiry = db.session.scalar(select(Inquiry))
        inquiry_id = inquiry.id
        assert inquiry.emergency and (inquiry.due_at - inquiry.asked_at) == timedelta(days=2)

    own = client.get(f"/exercises/{reference}")
    assert "Which units take part in the active phase?" in text_of(own)
    assert 'name="answer"' in own.get_data(as_text=True)
    assert 'name="question"' not in own.get_data(as_text=True)  # the conducting state cannot ask itself

    empty = post(client, f"/exercises/{reference}/inquiries/{inquiry_id}/answer", {"answer": "  "},
                 token_from=f"/exercises/{reference}")
    assert empty.status_code == 200
    assert "This field is required." in error_beside(empty, f"answer-{inquiry_id}")

    answered = post(client, f"/exercises/{reference}/inquiries/{inquiry_id}/answer",
                    {"answer": "Two motor rifle brigades."}, token_from=f"/exercises/{reference}")
    assert answered.status_code == 302
    for viewer in (client, asker):
        body = text_of(viewer.get(f"/exercises/{reference}"))
        assert "Which units take part in the active phase?" in body
        assert "Two motor rifle brigades." in body
        assert "answered" in body


def test_the_conducting_state_cannot_ask_itself(app, client, accepted):
    response = post(client, f"/exercises/{accepted}/inquiries", {"question": "A question to ourselves"},
                    token_from=f"/exercises/{accepted}")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_inquiry_with_bad_input_keeps_the_question(app, make_user, accepted):
    asker, _ = client_for(app, make_user, state_code="CN")
    url = f"/exercises/{accepted}"
    response = post(asker, f"{url}/inquiries", {"question": "Where\x00?"}, token_from=url)
    assert response.status_code == 200
    assert "control characters" in error_beside(response, "question")
    assert "Where" in text_of(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_inquiries_only_about_accepted_records(app, client, login_as, make_user):
    login_as("officer", "KZ")
    reference = create_via_web(app, client)
    asker, _ = client_for(app, make_user, state_code="CN")
    # A draft is invisible to another state: no page, no question.
    token = csrf_token(asker, NEW)
    assert asker.post(f"/exercises/{reference}/inquiries",
                      data={"question": "Anything?", "csrf_token": token}).status_code == 404


def test_answer_to_an_unknown_or_foreign_inquiry_is_not_found(app, client, accepted):
    url = f"/exercises/{accepted}"
    for inquiry_id in (999999, 2**31, 2**63):
        response = post(client, f"{url}/inquiries/{inquiry_id}/answer", {"answer": "x"}, token_from=url)
        assert response.status_code == 404


def test_the_revision_rows_match_the_versions(app, client, login_as, make_user):
    """An amendment keeps version 1 as filed and drafts version 2."""
    officer = login_as("officer", "KZ")
    reference = create_via_web(app, client)
    reviewer = make_user("secretariat")
    drive(app, reference, ("submit", officer.id), ("accept", reviewer.id), ("amend", officer.id))
    with app.app_context():
        numbers = list(db.session.scalars(select(Revision.number).join(Submission).where(
            Submission.reference == reference).order_by(Revision.number)))
    assert numbers == [1, 2]
    page = client.get(f"/exercises/{reference}?a=1&b=2")
    assert page.status_code == 200
    assert "Changes from version 1 to version 2" in text_of(page)


def test_save_and_submit_of_a_complete_notification(app, client, login_as):
    login_as("officer", "KZ")
    response = post(client, NEW, valid_form(app), action="submit")
    assert response.status_code == 302
    submission = only_submission(app)
    assert response.headers["Location"].endswith(f"/exercises/{submission.reference}")
    assert submission.status == SubmissionStatus.SUBMITTED
    with app.app_context():
        frozen = db.session.get(Submission, submission.id).current_revision
        assert frozen.is_frozen and frozen.snapshot["exercise"]["troops_total"] == 14000


def test_the_designation_comes_in_the_readers_language_first(app, client, login_as, make_user):
    officer = login_as("officer", "KZ")
    reference = create_via_web(app, client)
    drive(app, reference, ("submit", officer.id), ("accept", make_user("secretariat").id))
    reader, _ = client_for(app, make_user, state_code="CN")
    for language, designation in (("zh", "和平使命-2026"), ("ru", "Мирная миссия-2026"), ("en", "Peace Mission 2026")):
        page = text_of(reader.get(f"/exercises/{reference}", headers={"Accept-Language": language}))
        assert re.search(r"<h1>([^<]*)<", page).group(1).strip() == designation


def test_a_form_with_too_many_fields_is_refused(app, client, login_as):
    login_as("officer", "KZ")
    data = MultiDict(valid_form(app))
    for n in range(1500):
        data.add(f"extra{n}", "x")
    data["csrf_token"] = csrf_token(client, NEW)
    assert client.post(NEW, data=data).status_code == 413
    assert counts(app) == (0, 0, 0)


def test_an_unanswered_inquiry_past_its_due_time_is_overdue(app, client, make_user, accepted):
    asker, _ = client_for(app, make_user, state_code="CN")
    url = f"/exercises/{accepted}"
    assert post(asker, f"{url}/inquiries", {"question": "When do the observers arrive?"},
                token_from=url).status_code == 302
    with app.app_context():
        db.session.execute(update(Inquiry).values(due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    for viewer in (client, asker):
        body = text_of(viewer.get(url))
        assert "When do the observers arrive?" in body
        assert "overdue" in body


def test_a_notification_points_at_an_entry_of_the_accepted_calendar(app, client, login_as, make_user):
    officer = login_as("officer", "KZ")
    reviewer = make_user("secretariat")
    with app.app_context():
        calendar = make_calendar(user(officer.id), "KZ")
        svc.perform(user(officer.id), calendar, "submit")
        svc.perform(user(reviewer.id), calendar, "accept")
        db.session.commit()
        entry_id = exercises.calendar_entries_for(calendar.state_id)[0].id
        calendar_reference = calendar.reference
    page = client.get(NEW).get_data(as_text=True)
    assert f'<option value="{entry_id}">' in page and "Tien Shan" in page

    reference = create_via_web(app, client, calendar_entry_id=str(entry_id), not_forecast_reason="")
    assert selected(client.get(f"/exercises/{reference}/edit"), "calendar_entry_id") == str(entry_id)
    detail = text_of(client.get(f"/exercises/{reference}"))
    assert calendar_reference in detail and "Tien Shan" in detail
    assert "This notifiable activity was not in the annual calendar." not in detail
