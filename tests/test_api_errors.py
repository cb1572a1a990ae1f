"""Errors of the API: RFC 9457 problem documents with field-level details in the forms' own words; bad input
refused before the database on both backends; ETag / If-Match; idempotency keys; audit log and export jobs."""

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.models import AuditEntry, Submission
from registry.services import export_jobs
from tests.api_helpers import call, make_token, valid_body
from tests.conftest import csrf_token, login
from tests.test_exercise_pages import error_beside, post, valid_form


@pytest.fixture
def officer(app, make_user):
    user = make_user("officer", "KZ")
    return user, make_token(app, user)


def _create(client, token, **overrides):
    return call(client, "POST", "/api/v1/exercises", token, json=valid_body(**overrides))


def _fields(response) -> dict[str, str]:
    assert response.mimetype == "application/problem+json"
    return {e["field"]: e["detail"] for e in response.get_json()["errors"]}


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


# The same bad value through the form and through the API gets the same message beside the same field.
SAME_AS_THE_FORM = [
    ("troops_total", "-5", -5),
    ("troops_total", str(2**31), 2**31),
    ("latitude", "91", 91.0),
    ("longitude", "-181", -181.0),
    ("designation_en", "Peace\x00Mission", "Peace\x00Mission"),
    ("designation_en", "x" * 301, "x" * 301),
    ("end_date", "2020-01-01", "2020-01-01"),
]


@pytest.mark.parametrize(("field", "form_value", "api_value"), SAME_AS_THE_FORM, ids=[c[0] + "-" + str(i) for i, c in
                                                                                     enumerate(SAME_AS_THE_FORM)])
def test_field_messages_are_the_forms_messages(app, client, officer, make_user, field, form_value, api_value):
    page_client = app.test_client()
    assert login(page_client, make_user("officer", "KZ")).status_code == 302
    page = post(page_client, "/exercises/new", valid_form(app, **{field: form_value}))
    form_message = error_beside(page, field)
    assert form_message

    response = _create(client, officer[1], **{field: api_value})

    assert response.status_code == 422
    assert _fields(response)[field] == form_message
    assert response.get_json()["errors"][0]["pointer"] == f"/{field}"
    assert _count(app) == 0


def test_row_errors_point_into_the_list(client, officer):
    response = _create(client, officer[1], participants=[{"state": "ZZ"}, {"state": "KZ", "troops": -1}])
    fields = _fields(response)
    assert fields["participants-0-state"] == "Choose a member state or partner from the list."
    assert fields["participants-1-state"] == "The conducting state is not listed among the participants."
    assert fields["participants-1-troops"] == "Enter a number of 0 or more."
    pointers = {e["pointer"] for e in response.get_json()["errors"]}
    assert "/participants/1/troops" in pointers


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"troops_total": "14000"}, "troops_total", "Enter a whole number."),
    ({"troops_total": 1.5}, "troops_total", "Enter a whole number."),
    ({"start_date": "2026-02-30"}, "start_date", "Enter a date as YYYY-MM-DD."),
    ({"start_date": 20260101}, "start_date", "Enter a date as YYYY-MM-DD."),
    ({"exercise_type": "parade"}, "exercise_type", "Choose a value from the list."),
    ({"is_alert": "yes"}, "is_alert", "Enter true or false."),
    ({"status": "accepted"}, "status", "This field is not accepted here."),
    ({"reviewer": 1}, "reviewer", "This field is not accepted here."),
    ({"phases": [{"name": "active"}]}, "phases-0-start_date", "This field is required."),
    ({"participants": [{"state": "KG"}] * 41}, "participants", "At most 40 entries."),
])
def test_what_the_schema_refuses_is_named_in_the_forms_words(app, client, officer, body, field, message):
    response = call(client, "POST", "/api/v1/exercises", officer[1], json=body)
    assert response.status_code == 422
    assert _fields(response)[field] == message
    assert _count(app) == 0


def test_a_body_that_is_not_json_is_refused(client, officer):
    token = officer[1]
    assert call(client, "POST", "/api/v1/exercises", token, data="troops_total=1",
                content_type="application/x-www-form-urlencoded").status_code == 415
    bad = call(client, "POST", "/api/v1/exercises", token, data="{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    array = call(client, "POST", "/api/v1/exercises", token, json=[1, 2])
    assert array.status_code == 422


def test_a_body_too_large_is_refused_with_a_problem(app, client, officer):
    big = b'{"purpose": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    response = call(client, "POST", "/api/v1/exercises", officer[1], data=big, content_type="application/json")
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_unknown_paths_and_methods_are_problems(client, officer):
    assert call(client, "GET", "/api/v1/nothing-here", officer[1]).mimetype == "application/problem+json"
    response = call(client, "DELETE", "/api/v1/exercises", officer[1])
    assert response.status_code == 405 and response.mimetype == "application/problem+json"


def test_an_update_needs_if_match_and_a_stale_one_changes_nothing(app, client, officer):
    token = officer[1]
    created = _create(client, token)
    reference, etag = created.get_json()["reference"], created.headers["ETag"]
    url = f"/api/v1/exercises/{reference}"
    body = {k: v for k, v in valid_body(troops_total=15000).items()}
    missing = call(client, "PUT", url, token, json=body)
    assert missing.status_code == 428
    assert call(client, "PUT", url, token, json=body, headers={"If-Match": '"999"'}).status_code == 412
    assert call(client, "GET", url, token).get_json()["exercise"]["troops_total"] == 14000
    saved = call(client, "PUT", url, token, json=body, headers={"If-Match": f"W/{etag}"})
    assert saved.status_code == 200 and saved.get_json()["exercise"]["troops_total"] == 15000
    # A workflow action with the old ETag is refused too.
    assert call(client, "POST", f"/api/v1/records/{reference}/submit", token,
                headers={"If-Match": etag}).status_code == 412


def test_an_action_not_allowed_from_the_status_is_a_conflict(client, officer):
    token = officer[1]
    created = _create(client, token)
    reference = created.get_json()["reference"]
    response = call(client, "POST", f"/api/v1/records/{reference}/withdraw", token,
                    headers={"If-Match": created.headers["ETag"]})
    assert response.status_code == 409
    assert response.get_json()["detail"] == "This record is Draft: it cannot be withdrawn now."


def test_an_idempotency_key_is_per_user_and_must_be_well_formed(app, client, officer, make_user):
    token = officer[1]
    key = {"Idempotency-Key": "A" * 20}
    first = call(client, "POST", "/api/v1/exercises", token, json=valid_body(), headers=key)
    second = call(client, "POST", "/api/v1/exercises", token, json=valid_body(), headers=key)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["reference"] == second.get_json()["reference"]
    # Another user sending the same key gets their own record.
    other = make_token(app, make_user("officer", "KZ"))
    third = call(client, "POST", "/api/v1/exercises", other, json=valid_body(), headers=key)
    assert third.status_code == 201 and third.get_json()["reference"] != first.get_json()["reference"]
    bad = call(client, "POST", "/api/v1/exercises", token, json=valid_body(), headers={"Idempotency-Key": "short"})
    assert bad.status_code == 422 and "Idempotency-Key" in _fields(bad)
    assert _count(app) == 2


def test_the_api_speaks_the_owners_language(app, client, make_user):
    user = make_user("officer", "KZ")
    token = make_token(app, user)
    with app.app_context():
        from registry.models import User

        db.session.get(User, user.id).locale = "ru"
        db.session.commit()
    response = _create(client, token, troops_total=-1)
    assert _fields(response)["troops_total"] != "Enter a number of 0 or more."


def test_the_secretariat_files_on_a_states_behalf_and_must_name_it(app, client, make_user):
    token = make_token(app, make_user("secretariat"))
    missing = _create(client, token, source_document="Note verbale 7")
    assert _fields(missing)["state"] == "Choose a member state or partner from the list."
    made = _create(client, token, state="UZ", source_document="Note verbale 7")
    assert made.status_code == 201
    record = made.get_json()
    assert record["state"] == "UZ" and record["entered_on_behalf"] and record["source_document"] == "Note verbale 7"


def test_an_officer_cannot_file_for_another_state(app, client, officer):
    response = _create(client, officer[1], state="CN")
    assert response.status_code == 403
    assert _count(app) == 0


def test_bad_list_filters_are_refused_not_ignored(client, officer):
    token = officer[1]
    assert call(client, "GET", "/api/v1/exercises?type=parade", token).status_code == 422
    assert call(client, "GET", "/api/v1/exercises?state=ZZ", token).status_code == 422
    assert call(client, "GET", "/api/v1/exercises?after=garbage", token).status_code == 422
    assert call(client, "GET", "/api/v1/exercises?colour=red", token).status_code == 422
    assert call(client, "GET", "/api/v1/exercises?limit=0", token).status_code == 422


def test_the_list_pages_with_the_pages_cursor(client, officer):
    token = officer[1]
    references = {_create(client, token).get_json()["reference"] for _n in range(3)}
    first = call(client, "GET", "/api/v1/exercises?limit=2&sort=reference", token).get_json()
    second = call(client, "GET", f"/api/v1/exercises?limit=2&sort=reference&after={first['next_cursor']}",
                  token).get_json()
    seen = [i["reference"] for i in first["items"] + second["items"]]
    assert sorted(seen) == seen and set(seen) == references and second["next_cursor"] is None


def test_the_audit_log_for_auditors_with_the_pages_filters(app, client, make_user):
    auditor = make_user("auditor")
    token = make_token(app, auditor)
    page = call(client, "GET", "/api/v1/audit?action=api_token&limit=1", token).get_json()
    assert [e["action"] for e in page["items"]] == ["api_token.create"]
    bad = call(client, "GET", "/api/v1/audit?state=K1", token)
    assert bad.status_code == 422 and _fields(bad)["state"] == "Two letters, e.g. KZ."
    assert call(client, "GET", "/api/v1/audit?date_from=2026-01-02&date_to=2026-01-01", token).status_code == 422


def test_an_export_job_through_the_api_is_the_pages_job(app, client, make_user):
    auditor = make_user("auditor")
    token = make_token(app, auditor)
    bad = call(client, "POST", "/api/v1/export-jobs", token, json={"dataset": "nothing", "format": "csv"})
    assert _fields(bad)["dataset"] == "Choose a value from the list."
    queued = call(client, "POST", "/api/v1/export-jobs", token, json={"dataset": "states", "format": "csv"})
    assert queued.status_code == 202 and queued.get_json()["status"] == "queued"
    job_url = queued.headers["Location"]
    assert call(client, "GET", job_url + "/file", token).status_code == 404  # not written yet
    with app.app_context():
        assert export_jobs.run_pending() == 1
    job = call(client, "GET", job_url, token).get_json()
    assert job["status"] == "done" and job["file_url"] == job_url + "/file"
    download = call(client, "GET", job["file_url"], token)
    assert download.status_code == 200 and download.headers["X-Checksum-SHA256"] == job["sha256"]
    text = download.get_data(as_text=True)
    download.close()
    assert text.lstrip("\ufeff").startswith("code,")
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.request")) is not None
    # The exports page lists the same job.
    page_client = app.test_client()
    assert login(page_client, auditor).status_code == 302
    assert f"/exports/jobs/{job['id']}/file" in page_client.get("/exports/").get_data(as_text=True)
    assert csrf_token(page_client, "/exports/")
