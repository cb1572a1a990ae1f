"""The access matrix of the pages, repeated over the API: each role x endpoint, with a token holding every
scope the role allows. Refusals are problem documents and are audited like refused page actions; nothing
changes. Every API endpoint must have a row here."""

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.models import AuditEntry, ExportJob, Submission, User, Visit, VisitRequest
from registry.services import export_jobs, inquiries, visit_requests
from registry.services import submissions as workflow
from tests import visit_factories as vf
from tests.api_helpers import call, day, make_token, valid_body
from tests.structure_helpers import kyrgyz_csv
from tests.test_access import api_endpoints
from tests.test_api_visits import offer

ROLES = ("officer", "secretariat", "auditor", "admin")
CALENDAR_ENTRY = {"designation": "Tien Shan", "exercise_type": "command_post", "planned_start": "2030-05-10",
                  "planned_end": "2030-05-20", "troops": 3000}
# Scopes are checked first: an administrator's token cannot hold "file" or "review", so it is refused before
# the record is looked up.
# endpoint, method, path (with {draft} {submitted} {job}), body, expected: officer secretariat auditor admin.
# The officer is of the filing state (KZ) but not the one who filed; the Secretariat did not submit either.
MATRIX = [
    ("api.me", "GET", "/api/v1/me", None, (200, 200, 200, 200)),
    ("api.list_states", "GET", "/api/v1/states", None, (200, 200, 200, 200)),
    ("api.get_state", "GET", "/api/v1/states/KZ", None, (200, 200, 200, 200)),
    ("api.list_exercises", "GET", "/api/v1/exercises", None, (200, 200, 200, 200)),
    # A draft: its state, the Secretariat and auditors; an administrator reads only published records.
    ("api.get_exercise", "GET", "/api/v1/exercises/{draft}", None, (200, 200, 200, 404)),
    ("api.get_record", "GET", "/api/v1/records/{draft}", None, (200, 200, 200, 404)),
    ("api.record_events", "GET", "/api/v1/records/{draft}/events", None, (200, 200, 200, 404)),
    ("api.review_queue", "GET", "/api/v1/review/queue", None, (403, 200, 200, 403)),
    ("api.audit_log", "GET", "/api/v1/audit", None, (403, 403, 200, 200)),
    ("api.list_export_jobs", "GET", "/api/v1/export-jobs", None, (200, 200, 200, 403)),
    # Someone else's job does not exist for you; administrators hold no export scope at all.
    ("api.get_export_job", "GET", "/api/v1/export-jobs/{job}", None, (404, 404, 404, 403)),
    ("api.export_job_file", "GET", "/api/v1/export-jobs/{job}/file", None, (404, 404, 404, 403)),
    ("api.create_exercise", "POST", "/api/v1/exercises", "create", (201, 201, 403, 403)),
    ("api.update_exercise", "PUT", "/api/v1/exercises/{draft}", "update", (200, 403, 403, 403)),
    ("api.submit_record", "POST", "/api/v1/records/{draft}/submit", {}, (200, 403, 403, 403)),
    ("api.withdraw_record", "POST", "/api/v1/records/{submitted}/withdraw", {}, (200, 403, 403, 403)),
    ("api.accept_record", "POST", "/api/v1/records/{submitted}/accept", {}, (403, 200, 403, 403)),
    ("api.return_record", "POST", "/api/v1/records/{submitted}/return", {"comment": "Please correct."},
     (403, 200, 403, 403)),
    ("api.comment_record", "POST", "/api/v1/records/{submitted}/comments", {"comment": "A question."},
     (201, 201, 403, 403)),
    ("api.create_export_job", "POST", "/api/v1/export-jobs", {"dataset": "states", "format": "csv"},
     (202, 202, 202, 403)),
    ("api.create_bundle_job", "POST", "/api/v1/export-jobs/bundle", {}, (403, 403, 202, 403)),
    ("api.delete_record", "POST", "/api/v1/records/{draft}/delete", {}, (200, 403, 403, 403)),
    ("api.amend_record", "POST", "/api/v1/records/{accepted}/amend", {}, (200, 403, 403, 403)),
    ("api.request_cancellation_record", "POST", "/api/v1/records/{accepted}/request_cancellation",
     {"comment": "The exercise was called off."}, (200, 403, 403, 403)),
    ("api.accept_cancellation_record", "POST", "/api/v1/records/{cancelling}/accept_cancellation", {},
     (403, 200, 403, 403)),
    ("api.reject_cancellation_record", "POST", "/api/v1/records/{cancelling}/reject_cancellation",
     {"comment": "It took place."}, (403, 200, 403, 403)),
    ("api.list_inquiries", "GET", "/api/v1/exercises/{accepted}/inquiries", None, (200, 200, 200, 404)),
    # Only another state's officer asks; the filing state's officer answers.
    ("api.ask_inquiry", "POST", "/api/v1/exercises/{accepted}/inquiries", {"question": "Which units?"},
     (403, 403, 403, 403)),
    ("api.answer_inquiry", "POST", "/api/v1/exercises/{accepted}/inquiries/{inquiry}/answer",
     {"answer": "Two brigades."}, (200, 403, 403, 403)),
    ("api.list_calendars", "GET", "/api/v1/calendars", None, (200, 200, 200, 200)),
    ("api.get_calendar", "GET", "/api/v1/calendars/{calendar}", None, (200, 200, 200, 404)),
    ("api.create_calendar", "POST", "/api/v1/calendars", "calendar", (201, 201, 403, 403)),
    ("api.update_calendar", "PUT", "/api/v1/calendars/{calendar}", {"entries": [CALENDAR_ENTRY]},
     (200, 403, 403, 403)),
    ("api.list_visits", "GET", "/api/v1/visits", None, (200, 200, 200, 200)),
    ("api.get_visit", "GET", "/api/v1/visits/{visit}", None, (200, 200, 200, 404)),
    ("api.create_visit", "POST", "/api/v1/visits", "visit", (201, 201, 403, 403)),
    ("api.update_visit", "PUT", "/api/v1/visits/{visit}", "visit_update", (200, 403, 403, 403)),
    # Only an invited state answers, once the offer is published: not the host, nor anyone else.
    ("api.answer_visit", "POST", "/api/v1/visits/{visit}/answer", {"decision": "declined"}, (403, 403, 403, 403)),
    # The host's decisions on a published visit (its own version in If-Match): the host's officer only.
    ("api.postpone_visit", "POST", "/api/v1/visits/{published}/postpone", "postpone", (200, 403, 403, 403)),
    ("api.held_visit", "POST", "/api/v1/visits/{published}/held", {}, (422, 403, 403, 403)),
    ("api.cancel_visit", "POST", "/api/v1/visits/{published}/cancel", {"reason": "Runway works."},
     (200, 403, 403, 403)),
    ("api.list_structures", "GET", "/api/v1/structures", None, (200, 200, 200, 200)),
    ("api.get_structure", "GET", "/api/v1/structures/{structure}", None, (200, 200, 200, 404)),
    ("api.create_structure", "POST", "/api/v1/structures", "structure", (201, 201, 403, 403)),
    ("api.update_structure", "PUT", "/api/v1/structures/{structure}", {"ministry_name_en": "Ministry"},
     (200, 403, 403, 403)),
    ("api.replace_chart", "PUT", "/api/v1/structures/{structure}/chart", "chart", (200, 403, 403, 403)),
    # After a held visit: the host's report (the Secretariat may open it on the host's behalf, as on the page);
    # remarks only by a state that took part, which neither KZ (the host) nor the Secretariat is.
    ("api.create_visit_report", "POST", "/api/v1/visits/{held}/report", {"source_document": "Note verbale No. 12"},
     (201, 201, 403, 403)),
    ("api.create_visit_remarks", "POST", "/api/v1/visits/{held}/remarks", {}, (422, 422, 403, 403)),
    ("api.get_visit_paper", "GET", "/api/v1/visit-papers/{report}", None, (200, 200, 200, 404)),
    ("api.update_visit_paper", "PUT", "/api/v1/visit-papers/{report}", {"text": "Revised."}, (200, 403, 403, 403)),
    ("api.upload_paper_document", "PUT", "/api/v1/visit-papers/{report}/document", "document",
     (200, 403, 403, 403)),
    ("api.paper_document", "GET", "/api/v1/visit-papers/{report}/document/1", None, (200, 200, 200, 404)),
    # A request from KG to KZ: KZ's officers decide it; only KG's withdraw it; officers alone ask.
    ("api.list_visit_requests", "GET", "/api/v1/visit-requests", None, (200, 200, 200, 200)),
    ("api.get_visit_request", "GET", "/api/v1/visit-requests/{vrq}", None, (200, 200, 200, 404)),
    ("api.create_visit_request", "POST", "/api/v1/visit-requests", "ask", (201, 403, 403, 403)),
    ("api.accept_visit_request", "POST", "/api/v1/visit-requests/{vrq}/accept", {"places": 2},
     (200, 403, 403, 403)),
    ("api.decline_visit_request", "POST", "/api/v1/visit-requests/{vrq}/decline", {}, (200, 403, 403, 403)),
    ("api.withdraw_visit_request", "POST", "/api/v1/visit-requests/{vrq}/withdraw", {}, (403, 403, 403, 403)),
]
CASES = [pytest.param(endpoint, method, path, body, role, expected, id=f"{endpoint}-{role}")
         for endpoint, method, path, body, statuses in MATRIX for role, expected in zip(ROLES, statuses, strict=True)]


def test_every_api_endpoint_has_a_row(app):
    assert {row[0] for row in MATRIX} == api_endpoints(app)


def test_every_api_endpoint_answers_401_without_a_token(app, client):
    for endpoint, method, path, body, _statuses in MATRIX:
        url = path.format(draft="EXN-2026-0001", submitted="EXN-2026-0002", job=1, calendar="CAL-2026-0001",
                          visit="VIS-2026-0001", structure="MOD-2026-0001",
                          accepted="EXN-2026-0003", cancelling="EXN-2026-0004", published="VIS-2026-0002",
                          inquiry=1, held="VIS-2026-0003", report="VRP-2026-0001", vrq="VRQ-2026-0001")
        response = call(client, method, url, json=body if isinstance(body, dict) else None)
        assert response.status_code == 401, endpoint
        assert response.mimetype == "application/problem+json"


@pytest.fixture
def world(app, make_user):
    """A KZ draft and a KZ submitted notification filed by another officer, and an auditor's export job."""
    filer, auditor, reviewer = make_user("officer", "KZ"), make_user("auditor"), make_user("secretariat")
    asker, guest = make_user("officer", "KG"), make_user("officer", "CN")
    token = make_token(app, filer)
    client = app.test_client()
    draft = call(client, "POST", "/api/v1/exercises", token, json=valid_body()).get_json()["reference"]
    submitted = call(client, "POST", "/api/v1/exercises", token, json=valid_body()).get_json()["reference"]
    calendar = call(client, "POST", "/api/v1/calendars", token, json={"year": 2030, "entries": [CALENDAR_ENTRY]})
    visit = call(client, "POST", "/api/v1/visits", token, json=offer()).get_json()["reference"]
    published = call(client, "POST", "/api/v1/visits", token, json=offer()).get_json()["reference"]
    structure = call(client, "POST", "/api/v1/structures", token, json={"year": 2030}).get_json()["reference"]
    accepted = call(client, "POST", "/api/v1/exercises", token, json=valid_body()).get_json()["reference"]
    cancelling = call(client, "POST", "/api/v1/exercises", token, json=valid_body()).get_json()["reference"]
    with app.app_context():
        record = db.session.scalar(select(Submission).where(Submission.reference == submitted))
        filing_officer, secretariat = db.session.get(User, filer.id), db.session.get(User, reviewer.id)
        workflow.submit(filing_officer, record)
        for reference in (published, accepted, cancelling):
            record = db.session.scalar(select(Submission).where(Submission.reference == reference))
            workflow.submit(filing_officer, record)
            workflow.accept(secretariat, record)
        workflow.request_cancellation(filing_officer, record, comment="Called off.")
        accepted_record = db.session.scalar(select(Submission).where(Submission.reference == accepted))
        inquiry = inquiries.ask(db.session.get(User, asker.id), accepted_record, "Which units take part?")
        job = export_jobs.request_dataset(db.session.get(User, auditor.id), "states", "csv", {})
        db.session.commit()
        papers, held = (vf.published_offer(filer.id, reviewer.id, invitations=[("CN", 2)]) for _n in range(2))
        for record in (papers, held):
            vf.answer(guest.id, record)
            vf.held(filer.id, record)
        report = vf.report(filer.id, papers).reference  # a draft with its signed document (version 1)
        held = held.reference
        vrq = visit_requests.create_request(db.session.get(User, asker.id), db.session.get(User, filer.id).state,
                                            facility="Taldykorgan air base", purpose="The flight line.").reference
        db.session.commit()
        return {"draft": draft, "submitted": submitted, "job": job.id,
                "calendar": calendar.get_json()["reference"], "visit": visit,
                "structure": structure, "accepted": accepted, "cancelling": cancelling,
                "published": published, "inquiry": inquiry.id, "held": held, "report": report,
                "vrq": vrq}


def _lock(app, reference: str, visit: bool = False) -> str:
    with app.app_context():
        if reference.startswith("VRQ-"):
            return str(db.session.scalar(select(VisitRequest.lock_version)
                                         .where(VisitRequest.reference == reference)))
        if visit:  # the visit's own version, for the host's decisions
            return str(db.session.scalar(select(Visit.lock_version).join(Submission)
                                         .where(Submission.reference == reference)))
        return str(db.session.scalar(select(Submission.lock_version).where(Submission.reference == reference)))


def _counts(app) -> tuple:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Submission)),
                db.session.scalar(select(func.count()).select_from(ExportJob)),
                tuple(db.session.execute(select(Submission.reference, Submission.status, Submission.lock_version)
                                         .order_by(Submission.id)).all()))


@pytest.mark.parametrize(("endpoint", "method", "path", "body", "role", "expected"), CASES)
def test_api_matrix(app, client, make_user, world, endpoint, method, path, body, role, expected):
    actor = make_user(role=role, state="KZ")
    token = make_token(app, actor)
    url = path.format(**world)
    headers, extra = {}, {}
    names = ("draft", "submitted", "calendar", "visit", "structure", "accepted", "cancelling", "published", "held",
             "report", "vrq")
    reference = next((world[name] for name in names if f"{{{name}}}" in path), None)
    if method in ("PUT", "POST") and reference:
        headers["If-Match"] = f'"{_lock(app, reference, visit="{published}" in path)}"'
    if body == "create":
        body = valid_body(state="KZ", source_document="Note verbale No. 12") if role == "secretariat" \
            else valid_body()
    elif body == "update":
        body = valid_body()
    elif body == "calendar":
        body = {"year": 2031, "entries": [{**CALENDAR_ENTRY, "planned_start": "2031-05-10",
                                           "planned_end": "2031-05-20"}]}
        if role == "secretariat":
            body.update(state="KZ", source_document="Note verbale No. 12")
    elif body == "structure":
        body = {"year": 2031, **({"state": "KZ", "source_document": "Note verbale No. 12"}
                                 if role == "secretariat" else {})}
    elif body == "postpone":
        body = {"start_date": day(80), "end_date": day(81), "answer_by": day(70), "reason": "Weather."}
    elif body == "chart":
        body = None
        extra["data"], extra["content_type"] = kyrgyz_csv(), "text/csv"
    elif body == "ask":
        body = {"host": "KG", "facility": "Osh garrison", "purpose": "Barracks and training area."}
    elif body == "document":
        body = None
        extra["data"], extra["content_type"] = vf.PDF, "application/pdf"
    elif body in ("visit", "visit_update"):
        body = offer(**({"state": "KZ", "source_document": "Note verbale No. 12"}
                        if role == "secretariat" and body == "visit" else {}))
    before = _counts(app)
    with app.app_context():
        denied_before = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                          .where(AuditEntry.action == "access.denied"))

    response = call(client, method, url, token, json=body, headers=headers, **extra)

    assert response.status_code == expected, (role, url, response.get_data(as_text=True)[:500])
    with app.app_context():
        denied = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied")
                                         .order_by(AuditEntry.seq)))[denied_before:]
    if expected >= 400:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == expected
        if method != "GET":
            assert _counts(app) == before  # a refused change changed nothing
    if expected == 403:
        assert len(denied) == 1 and denied[0].actor_id == actor.id and denied[0].object_id == endpoint
    else:
        assert denied == []
