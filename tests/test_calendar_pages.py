"""The annual calendar pages: the list, the form with its rows (without JavaScript), the record page, on both
backends, through the web client with CSRF."""

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from registry.db import db, utcnow
from registry.enums import SubmissionStatus
from registry.models import AuditEntry, CalendarDetails, CalendarEntry, Submission
from registry.services import calendars
from registry.services import submissions as svc
from registry.services.profiles import all_profiles
from tests.conftest import audit_actions, csrf_token, login
from tests.factories import make_calendar, state, user

NEW = "/calendars/new"
YEAR = utcnow().year + 1


def post(client, url: str, data: dict, action: str = "save", token_from: str | None = None):
    token = csrf_token(client, token_from or url)
    return client.post(url, data={**data, "action": action, "csrf_token": token})


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


def row(index: int, designation: str, start: str, end: str, kind: str = "field_training", area: str = "",
        troops: str = "") -> dict:
    prefix = f"entries-{index}-"
    return {prefix + "designation": designation, prefix + "exercise_type": kind, prefix + "planned_start": start,
            prefix + "planned_end": end, prefix + "area": area, prefix + "troops": troops}


def envelope(year=YEAR, **overrides) -> dict:
    data = {"year": str(year), "visibility": "members", "original_language": "ru", "remarks": ""}
    data.update(overrides)
    return data


def counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Submission)),
                db.session.scalar(select(func.count()).select_from(CalendarDetails)),
                db.session.scalar(select(func.count()).select_from(CalendarEntry)),
                db.session.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action.like("calendar.%") | AuditEntry.action.like("submission.%"))))


def the_submission(app, reference: str | None = None) -> Submission:
    with app.app_context():
        stmt = select(Submission)
        if reference:
            stmt = stmt.where(Submission.reference == reference)
        submission = db.session.scalar(stmt)
        db.session.expunge(submission)
        return submission


def entries_of(app, reference: str) -> list[dict]:
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.reference == reference))
        return calendars.snapshot_details(calendars.details_of(submission.current_revision))["entries"]


def signed_in(app, make_user, role="officer", state_code="KZ"):
    """A second browser, signed in as a new user."""
    other = app.test_client()
    person = make_user(role=role, state=state_code)
    assert login(other, person).status_code == 302
    return other, person


def act(client, reference: str, action: str, **data):
    detail = f"/calendars/{reference}"
    page = client.get(detail)
    lock = re.search(r'name="lock_version" value="(\d+)"', page.get_data(as_text=True)).group(1)
    return client.post(f"/records/{reference}/act/{action}",
                       data={"csrf_token": csrf_token(client, detail), "lock_version": lock, **data})


# --- the whole path through the pages ------------------------------------------------------------------


def test_officer_files_a_calendar_with_rows_added_and_removed_without_javascript(app, client, login_as, make_user):
    login_as("officer", "KZ")
    page = client.get(NEW)
    assert page.status_code == 200
    assert input_value(page, "year") == str(YEAR)  # next year by default
    assert "Save and submit" in text_of(page)

    typed = envelope(remarks="Forecast of the General Staff")
    typed |= row(0, "Dropped exercise", f"{YEAR}-03-01", f"{YEAR}-03-05")
    typed |= row(1, "Steppe Shield", f"{YEAR}-05-10", f"{YEAR}-05-20", "command_post", "Otar training ground", "3000")

    # "Remove" the first row: the second moves up with everything typed; nothing is saved.
    page = post(client, NEW, typed, action="remove_entry-0")
    assert page.status_code == 200
    assert input_value(page, "entries-0-designation") == "Steppe Shield"
    assert selected(page, "entries-0-exercise_type") == "command_post"
    assert input_value(page, "entries-0-planned_start") == f"{YEAR}-05-10"
    assert input_value(page, "entries-0-troops") == "3000"
    assert input_value(page, "entries-1-designation") is None
    assert "Forecast of the General Staff" in text_of(page)
    assert counts(app) == (0, 0, 0, 0)

    # "Add an activity": a blank row appears below, the first keeps what was typed; still nothing saved.
    kept = envelope(remarks="Forecast of the General Staff")
    kept |= row(0, "Steppe Shield", f"{YEAR}-05-10", f"{YEAR}-05-20", "command_post", "Otar training ground", "3000")
    page = post(client, NEW, kept, action="add_entry")
    assert page.status_code == 200
    assert input_value(page, "entries-0-designation") == "Steppe Shield"
    assert input_value(page, "entries-1-designation") == ""
    assert counts(app) == (0, 0, 0, 0)

    # Fill the new row and save the draft: the edit page shows the values typed.
    kept |= row(1, "Autumn Storm", f"{YEAR}-09-01", f"{YEAR}-09-07", "live_fire", "", "")
    response = post(client, NEW, kept, action="save")
    assert response.status_code == 302
    submission = the_submission(app)
    assert response.location == f"/calendars/{submission.reference}/edit"
    assert submission.status == SubmissionStatus.DRAFT
    assert submission.reference.startswith("CAL-")
    page = client.get(response.location)
    assert input_value(page, "entries-0-designation") == "Steppe Shield"
    assert input_value(page, "entries-0-troops") == "3000"
    assert input_value(page, "entries-1-designation") == "Autumn Storm"
    assert input_value(page, "entries-1-troops") == ""
    assert selected(page, "entries-1-exercise_type") == "live_fire"
    assert input_value(page, "year") is None  # set at creation only
    assert [e["designation"] for e in entries_of(app, submission.reference)] == ["Steppe Shield", "Autumn Storm"]
    assert "calendar.save_draft" in audit_actions(app)

    # Save and submit from the edit page.
    edit_url = f"/calendars/{submission.reference}/edit"
    kept.pop("year")
    kept["lock_version"] = input_value(page, "lock_version")
    response = post(client, edit_url, kept, action="submit")
    assert response.status_code == 302
    assert response.location == f"/calendars/{submission.reference}"
    assert the_submission(app).status == SubmissionStatus.SUBMITTED

    # The Secretariat accepts it on the record page.
    reviewer, _ = signed_in(app, make_user, "secretariat")
    assert act(reviewer, submission.reference, "accept").status_code == 302
    assert the_submission(app).status == SubmissionStatus.ACCEPTED

    # Another member state's officer sees the accepted calendar (members only), in the list and on its page.
    other, _ = signed_in(app, make_user, "officer", "RU")
    listing = text_of(other.get("/calendars/"))
    assert submission.reference in listing
    page = other.get(f"/calendars/{submission.reference}")
    assert page.status_code == 200
    assert "Steppe Shield" in text_of(page) and "Autumn Storm" in text_of(page)
    assert "Edit this version" not in text_of(page)
    assert other.get(edit_url).status_code == 403


def test_another_states_officer_never_sees_a_draft(app, client, login_as, make_user):
    kg = make_user("officer", "KG")
    with app.app_context():
        draft = make_calendar(user(kg.id), "KG", year=2091)
        submitted = make_calendar(user(kg.id), "KG", year=2092)
        svc.submit(user(kg.id), submitted)
        db.session.commit()
        references = draft.reference, submitted.reference
    login_as("officer", "RU")
    listing = text_of(client.get("/calendars/"))
    for reference in references:
        assert reference not in listing
        assert client.get(f"/calendars/{reference}").status_code == 404
        assert client.get(f"/calendars/{reference}/edit").status_code == 404
    # Their own state, the Secretariat and auditors see both.
    for role, code in (("officer", "KG"), ("secretariat", "KZ"), ("auditor", "KZ")):
        insider, _ = signed_in(app, make_user, role, code)
        listing = text_of(insider.get("/calendars/"))
        assert all(reference in listing for reference in references), role


def test_others_read_the_accepted_version_while_an_amendment_is_drafted(app, client, login_as, make_user):
    kz, reviewer = make_user("officer", "KZ"), make_user("secretariat")
    with app.app_context():
        record = make_calendar(user(kz.id), "KZ", year=2093)
        svc.submit(user(kz.id), record)
        svc.accept(user(reviewer.id), record)
        svc.amend(user(kz.id), record)
        extra = calendars.EntryInput("Added later", "live_fire", date(2093, 7, 1), date(2093, 7, 3))
        first = calendars.EntryInput("Tien Shan", "command_post", date(2093, 5, 10), date(2093, 5, 20), troops=3000)
        calendars.update_calendar(user(kz.id), record, [first, extra])
        db.session.commit()
        reference = record.reference

    def entries_column(client_) -> str:
        page = client_.get("/calendars/?year=2093").get_data(as_text=True)
        match = re.search(rf"{reference}</a></th>(.*?)</tr>", page, re.S)
        return re.findall(r"<td>(.*?)</td>", match.group(1), re.S)[3].strip()

    login_as("officer", "RU")
    assert entries_column(client) == "1"
    page = text_of(client.get(f"/calendars/{reference}"))
    assert "Added later" not in page
    own, _ = signed_in(app, make_user, "officer", "KZ")
    assert entries_column(own) == "2"
    page = own.get(f"/calendars/{reference}?a=1&b=2")
    assert "entries" in text_of(page) and "Added later" in text_of(page)  # the diff of the two versions


# --- bad input: messages beside the fields, nothing stored ----------------------------------------------


BAD = [
    ({"year": "1989"}, "year", "Enter a year from 1990 to 2100."),
    ({"year": "2101"}, "year", "Enter a year from 1990 to 2100."),
    ({"year": "20x6"}, "year", "Enter a year from 1990 to 2100."),
    ({"year": "2\x0026"}, "year", "Enter a year from 1990 to 2100."),
    ({"entries-0-planned_start": f"{YEAR - 1}-12-31"}, "entries-0-planned_start", "must fall in"),
    ({"entries-0-planned_end": f"{YEAR + 1}-01-01"}, "entries-0-planned_end", "must fall in"),
    ({"entries-0-planned_start": f"{YEAR}-02-30"}, "entries-0-planned_start", "YYYY-MM-DD"),
    ({"entries-0-planned_start": f"{YEAR}-06-10", "entries-0-planned_end": f"{YEAR}-06-01"},
     "entries-0-planned_end", "cannot be before the start"),
    ({"entries-0-designation": "Steppe\x00Shield"}, "entries-0-designation", "control characters"),
    ({"entries-0-designation": ""}, "entries-0-designation", "required"),
    ({"entries-0-area": "Otar\x00"}, "entries-0-area", "control characters"),
    ({"entries-0-troops": str(2**31)}, "entries-0-troops", "too large"),
    ({"entries-0-troops": "-5"}, "entries-0-troops", "0 or more"),
    ({"entries-0-troops": "1e9"}, "entries-0-troops", "whole number"),
    ({"entries-0-exercise_type": "tank_parade"}, "entries-0-exercise_type", "Choose a value"),
    ({"remarks": "a\x00b"}, "remarks", "control characters"),
]


@pytest.mark.parametrize(("override", "field", "message"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_comes_back_beside_its_field_and_stores_nothing(app, client, login_as, override, field, message):
    login_as("officer", "KZ")
    data = envelope() | row(0, "Steppe Shield", f"{YEAR}-05-10", f"{YEAR}-05-20", troops="3000")
    data |= row(1, "Autumn Storm", f"{YEAR}-09-01", f"{YEAR}-09-07")
    data.update(override)
    for action in ("save", "submit"):
        page = post(client, NEW, data, action=action)
        assert page.status_code == 200
        assert message in error_beside(page, field)
        assert input_value(page, "entries-1-designation") == "Autumn Storm"  # nothing typed is lost
        assert counts(app) == (0, 0, 0, 0)


def test_bad_input_on_the_edit_page_keeps_the_saved_draft(app, client, login_as):
    officer = login_as("officer", "KZ")
    with app.app_context():
        record = make_calendar(user(officer.id), "KZ", year=2094)
        db.session.commit()
        reference = record.reference
    edit_url = f"/calendars/{reference}/edit"
    lock = input_value(client.get(edit_url), "lock_version")
    data = {"visibility": "members", "remarks": "", "lock_version": lock}
    data |= row(0, "Tien Shan", "2094-05-10", "2094-05-20", "command_post", troops=str(2**31))
    page = post(client, edit_url, data)
    assert page.status_code == 200
    assert "too large" in error_beside(page, "entries-0-troops")
    assert input_value(page, "entries-0-troops") == str(2**31)
    assert entries_of(app, reference)[0]["troops"] == 3000


def test_a_second_calendar_for_the_same_state_and_year_is_refused(app, client, login_as):
    officer = login_as("officer", "KZ")
    with app.app_context():
        make_calendar(user(officer.id), "KZ", year=YEAR)
        db.session.commit()
    before = counts(app)
    page = post(client, NEW, envelope() | row(0, "Steppe Shield", f"{YEAR}-05-10", f"{YEAR}-05-20"))
    assert page.status_code == 200
    assert f"already has a calendar for {YEAR}" in error_beside(page, "year")
    assert counts(app) == before


def test_an_empty_calendar_cannot_be_submitted_unless_it_is_a_nil_report(app, client, login_as):
    login_as("officer", "KZ")
    response = post(client, NEW, envelope(), action="submit")
    assert response.status_code == 302 and response.location.endswith("/edit?check=1")
    submission = the_submission(app)
    assert submission.status == SubmissionStatus.DRAFT  # saved, not submitted
    page = client.get(response.location)
    assert "file a nil report" in text_of(page)
    assert re.search(r'<legend id="entries-h">.*?<p class="error">[^<]*nil report', page.get_data(as_text=True),
                     re.S)

    lock = input_value(page, "lock_version")
    edit_url = f"/calendars/{submission.reference}/edit"
    response = post(client, edit_url, {"visibility": "members", "is_nil": "y", "remarks": "", "lock_version": lock},
                    action="submit")
    assert response.location == f"/calendars/{submission.reference}"
    submission = the_submission(app)
    assert submission.status == SubmissionStatus.SUBMITTED and submission.is_nil


def test_a_change_made_meanwhile_keeps_what_was_typed(app, client, login_as):
    officer = login_as("officer", "KZ")
    with app.app_context():
        record = make_calendar(user(officer.id), "KZ", year=2095)
        db.session.commit()
        reference = record.reference
    edit_url = f"/calendars/{reference}/edit"
    stale = input_value(client.get(edit_url), "lock_version")
    data = {"visibility": "members", "remarks": ""} | row(0, "First tab", "2095-05-10", "2095-05-20", "command_post")
    assert post(client, edit_url, data | {"lock_version": stale}).status_code == 302
    data |= row(0, "Second tab", "2095-05-10", "2095-05-20", "command_post")
    page = post(client, edit_url, data | {"lock_version": stale})
    assert page.status_code == 409
    assert input_value(page, "entries-0-designation") == "Second tab"
    assert entries_of(app, reference)[0]["designation"] == "First tab"


def test_the_year_cannot_be_changed_after_creation(app, client, login_as):
    officer = login_as("officer", "KZ")
    with app.app_context():
        record = make_calendar(user(officer.id), "KZ", year=2096)
        db.session.commit()
        reference = record.reference
    edit_url = f"/calendars/{reference}/edit"
    lock = input_value(client.get(edit_url), "lock_version")
    data = {"visibility": "members", "remarks": "", "lock_version": lock, "year": "2097", "state_id": "1"}
    data |= row(0, "Tien Shan", "2096-05-10", "2096-05-20", "command_post")
    assert post(client, edit_url, data).status_code == 302
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.reference == reference))
        assert calendars.details_of(submission.current_revision).year == 2096
        assert submission.state.code == "KZ"


# --- the due date and the late flag ---------------------------------------------------------------------


def test_the_due_date_comes_from_the_profile(app, client, login_as):
    login_as("officer", "KZ")
    assert post(client, NEW, envelope() | row(0, "Steppe Shield", f"{YEAR}-05-10", f"{YEAR}-05-20")).status_code == 302
    with app.app_context():
        month, day = all_profiles()["vienna_2011"].calendar_due
        assert calendars.due_date_for(YEAR) == date(YEAR - 1, month, day)
    submission = the_submission(app)
    assert submission.due_date == date(YEAR - 1, month, day)
    assert submission.due_date == date(YEAR - 1, 11, 15)  # the shipped profiles file: 15 November
    page = text_of(client.get(f"/calendars/{submission.reference}"))
    assert submission.due_date.isoformat() in page


@pytest.mark.parametrize(("days_after_due", "late"), [(0, False), (1, True)])
def test_a_calendar_submitted_after_its_due_date_is_late(app, client, login_as, days_after_due, late):
    officer = login_as("officer", "KZ")
    with app.app_context():
        record = make_calendar(user(officer.id), "KZ", year=2090)
        svc.submit(user(officer.id), record, today=record.due_date + timedelta(days=days_after_due))
        db.session.commit()
        reference, late_flag = record.reference, record.is_late
    assert late_flag is late
    listing = client.get("/calendars/?year=2090").get_data(as_text=True)
    line = re.search(rf"{reference}</a></th>(.*?)</tr>", listing, re.S).group(1)
    assert ("late" in line) is late
    assert ("badge red" in client.get(f"/calendars/{reference}").get_data(as_text=True)) is late


def test_a_draft_past_its_due_date_is_shown_overdue(app, client, login_as):
    officer = login_as("officer", "KZ")
    with app.app_context():
        record = make_calendar(user(officer.id), "KZ", year=utcnow().year - 1)  # due two Novembers ago
        db.session.commit()
        reference = record.reference
    listing = text_of(client.get("/calendars/"))
    line = re.search(rf"{reference}</a></th>(.*?)</tr>", listing, re.S).group(1)
    assert "overdue, not yet submitted" in line


# --- the Secretariat: on a state's behalf, and who has filed --------------------------------------------


def test_the_secretariat_enters_a_calendar_on_a_states_behalf(app, client, login_as):
    login_as("secretariat")
    with app.app_context():
        kg = state("KG").id
    page = client.get(NEW)
    assert 'name="state_id"' in page.get_data(as_text=True)
    data = envelope() | row(0, "Mountain Eagle", f"{YEAR}-06-01", f"{YEAR}-06-05")
    page = post(client, NEW, data | {"state_id": "", "source_document": "Note verbale 7/2025"})
    assert "Choose a member state" in error_beside(page, "state_id")
    assert counts(app) == (0, 0, 0, 0)
    page = post(client, NEW, data | {"state_id": str(kg), "source_document": " "})
    assert "required" in error_beside(page, "source_document")
    assert input_value(page, "entries-0-designation") == "Mountain Eagle"
    assert counts(app) == (0, 0, 0, 0)
    response = post(client, NEW, data | {"state_id": str(kg), "source_document": "Note verbale 7/2025"})
    assert response.status_code == 302
    submission = the_submission(app)
    assert submission.entered_on_behalf and submission.source_document == "Note verbale 7/2025"
    assert submission.state_id == kg


def test_the_secretariat_sees_who_has_filed_for_a_year(app, client, login_as, make_user):
    kz, kg = make_user("officer", "KZ"), make_user("officer", "KG")
    with app.app_context():
        filed = make_calendar(user(kz.id), "KZ", year=2098)
        svc.submit(user(kz.id), filed)
        make_calendar(user(kg.id), "KG", year=2098)  # a draft only
        db.session.commit()
        filed_reference = filed.reference
    login_as("secretariat")
    page = client.get("/calendars/?year=2098").get_data(as_text=True)
    overview = page.split('id="overview-h"', 1)[1]
    assert "2098" in overview[:80]
    rows = {re.sub(r"<[^>]+>", "", m[0]).strip(): m[1]
            for m in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', overview, re.S)}
    with app.app_context():
        names = {code: state(code).name_en for code in ("KZ", "KG", "RU", "CN")}
    assert "filed" in rows[names["KZ"]] and filed_reference in rows[names["KZ"]]
    assert "draft, not yet submitted" in rows[names["KG"]]
    assert "not filed" in rows[names["RU"]] and "not filed" in rows[names["CN"]]
    # Officers do not get the overview.
    officer, _ = signed_in(app, make_user, "officer", "RU")
    assert 'id="overview-h"' not in officer.get("/calendars/?year=2098").get_data(as_text=True)


# --- the list's filters and who may open the form -------------------------------------------------------


def test_filters_by_year_and_state_and_ignore_what_is_not_one(app, client, login_as):
    officer = login_as("officer", "KZ")
    with app.app_context():
        a = make_calendar(user(officer.id), "KZ", year=2088).reference
        b = make_calendar(user(officer.id), "KZ", year=2089).reference
        db.session.commit()
    page = text_of(client.get("/calendars/?year=2088"))
    assert a in page and b not in page
    page = text_of(client.get("/calendars/?state=kz"))
    assert a in page and b in page
    assert a not in text_of(client.get("/calendars/?state=RU"))
    for bad in ("year=abc", "year=99999999999999999999", "year=2%00026", "state=X%00", "state=ZZ",
                "year=1800&state=K%CC%81"):
        response = client.get(f"/calendars/?{bad}")
        assert response.status_code == 200, bad
        assert "These filters were ignored." in text_of(response)


@pytest.mark.parametrize(("role", "expected"), [("officer", 200), ("secretariat", 200), ("auditor", 403),
                                                ("admin", 403)])
def test_who_may_open_a_new_calendar(client, login_as, role, expected):
    login_as(role)
    assert client.get(NEW).status_code == expected
    assert client.get("/calendars/").status_code == 200


def test_an_unknown_or_malformed_reference_is_not_found(client, login_as):
    login_as("officer", "KZ")
    for reference in ("CAL-2026-9999", "EXN-2026-0001", "CAL-2026-0001%00", "x" * 300):
        assert client.get(f"/calendars/{reference}").status_code == 404
        assert client.get(f"/calendars/{reference}/edit").status_code == 404
