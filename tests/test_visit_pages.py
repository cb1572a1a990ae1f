"""Voluntary visits through the web pages, as their users would use them, on both backends.

Issue 4, "done when": Kazakhstan's officer offers an air-base visit to all members with two places each; the
Secretariat accepts the offer; China's officer accepts with two participants and a third is refused; India's
officer declines; the visit is held; the report with its signed PDF is filed and accepted; the whole history is
on the visit's timeline and in the audit log. Then the pages around it, bad input and the signed document.
"""

import hashlib
import html
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from registry.db import db, utcnow
from registry.enums import RecordType
from registry.models import AuditEntry, Submission, VisitAnswer
from registry.services import visits as visit_service
from tests import visit_factories as vf
from tests.conftest import csrf_token, login
from tests.test_exercise_pages import error_beside, input_value


def _post(client, url, data, token_page, **kwargs):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, token_page)}, **kwargs)


def offer_form(start, **overrides) -> dict:
    values = vf.offer_values(start)
    form = {key: ("y" if value is True else "" if value is False else str(value)) for key, value in values.items()
            if value is not False}
    form.update({"start_date": start.isoformat(), "end_date": (start + timedelta(days=1)).isoformat(),
                 "answer_by": (start - timedelta(days=10)).isoformat(), "visibility": "members",
                 "original_language": "ru", "idempotency_key": "k" * 32})
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def _one(app, record_type: RecordType) -> Submission:
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.record_type == record_type))
        db.session.expunge(submission)
        return submission


@pytest.fixture
def clients(app, make_user):
    people = {"kz": make_user("officer", "KZ"), "cn": make_user("officer", "CN"), "in": make_user("officer", "IN"),
              "reviewer": make_user("secretariat"), "auditor": make_user("auditor"), "ru": make_user("officer", "RU")}
    result = {}
    for name, person in people.items():
        client = app.test_client()
        assert login(client, person).status_code == 302
        result[name] = client
    return result


def test_the_visit_journey(app, clients, monkeypatch):
    kz, cn, india, secretariat = clients["kz"], clients["cn"], clients["in"], clients["reviewer"]
    start = utcnow().date() + timedelta(days=60)

    # 1. Kazakhstan's officer offers an air-base visit to all member states, two places each, and submits.
    response = _post(kz, "/visits/new", {**offer_form(start), "action": "submit"}, "/visits/new")
    assert response.status_code == 302, html.unescape(response.get_data(as_text=True))[:3000]
    offer = _one(app, RecordType.VISIT)
    assert offer.status.value == "submitted"
    detail = f"/visits/{offer.reference}"

    # 2. The Secretariat accepts the offer: the invitations go out.
    queue = secretariat.get("/review/").get_data(as_text=True)
    assert offer.reference in queue and "Taldykorgan air base" in queue
    response = _post(secretariat, f"/records/{offer.reference}/act/accept",
                     {"lock_version": str(offer.lock_version)}, detail)
    assert response.status_code == 302
    page = cn.get(detail).get_data(as_text=True)
    assert "Invitations sent" in page and "Answer the invitation" in page
    assert offer.reference in cn.get("/visits/awaiting").get_data(as_text=True)

    # 3. China's officer names three participants: refused, with what was typed kept; then two.
    answer_url = f"{detail}/answer"
    people = {f"participants-{i}-{field}": f"{field} {i}" for i in range(3) for field in ("name", "rank", "post")}
    response = _post(cn, answer_url, {"decision": "accepted", "lock_version": "", **people}, answer_url)
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    assert "Your state has 2 places on this visit: name at most 2 participants." in text
    assert input_value(response, "participants-2-name") == "name 2"
    del people["participants-2-name"], people["participants-2-rank"], people["participants-2-post"]
    response = _post(cn, answer_url, {"decision": "accepted", "lock_version": "", **people}, answer_url)
    assert response.status_code == 302

    # 4. India's officer declines, giving no reason; the empty participant row the form offers comes back blank.
    blank_row = {"participants-0-name": "", "participants-0-rank": "", "participants-0-post": " "}
    response = _post(india, answer_url, {"decision": "declined", "lock_version": "", **blank_row}, answer_url)
    assert response.status_code == 302
    host_view = html.unescape(kz.get(detail).get_data(as_text=True))
    assert "name 0, rank 0, post 0" in host_view and "Declined" in host_view  # the running list

    # 5. The visit takes place: the host records it as held on its first day.
    later = datetime.combine(start, time(10), tzinfo=UTC)
    monkeypatch.setattr(visit_service, "utcnow", lambda: later)
    with app.app_context():
        lock = visit_service.visit_of(db.session.get(Submission, offer.id)).lock_version
    response = _post(kz, f"{detail}/held", {"lock_version": str(lock)}, detail)
    assert response.status_code == 302
    assert "Recorded as held" in kz.get(detail).get_data(as_text=True)

    # 6. The host files the report with its signed PDF and submits it; the Secretariat accepts it.
    page = kz.get(detail).get_data(as_text=True)
    assert "File the post-visit report" in page
    key = input_value(kz.get(detail), "idempotency_key")
    response = _post(kz, f"{detail}/papers/report", {"idempotency_key": key}, detail)
    assert response.status_code == 302
    report = _one(app, RecordType.VISIT_REPORT)
    edit = f"/visits/papers/{report.reference}/edit"
    response = kz.post(edit, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(kz, edit), "lock_version": str(report.lock_version), "visibility": "members",
        "held_from": start.isoformat(), "held_to": (start + timedelta(days=1)).isoformat(),
        "text": "The visit took place as planned.", "action": "submit",
        "document": (io.BytesIO(vf.PDF), "signed-report.pdf")})
    assert response.status_code == 302, html.unescape(response.get_data(as_text=True))[:3000]
    report = _one(app, RecordType.VISIT_REPORT)
    assert report.status.value == "submitted"
    response = _post(secretariat, f"/records/{report.reference}/act/accept",
                     {"lock_version": str(report.lock_version)}, f"/visits/papers/{report.reference}")
    assert response.status_code == 302 and _one(app, RecordType.VISIT_REPORT).status.value == "accepted"
    download = cn.get(f"/visits/papers/{report.reference}/document/1")
    assert download.status_code == 200 and download.data == vf.PDF
    assert download.headers["X-Checksum-SHA256"] == hashlib.sha256(vf.PDF).hexdigest()
    assert download.headers["Content-Disposition"].startswith("attachment")

    # 7. The whole history is on the visit's timeline and in the audit log.
    timeline = html.unescape(kz.get(detail).get_data(as_text=True)).split('id="timeline-h"')[1]
    for words in ("submitted", "accepted", "sent the invitations", "answered the invitation",
                  "recorded the visit as held", report.reference):
        assert words in timeline, words
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_id.in_([offer.reference, report.reference])).order_by(AuditEntry.id)))
    assert actions == ["submission.create", "visit.save_draft", "submission.submit", "submission.accept",
                       "visit.invitations_sent", "visit.answer", "visit.answer", "visit.held",
                       "submission.create", "visit_paper.save_draft", "visit_paper.save_draft", "submission.submit",
                       "submission.accept"]


def test_bad_input_on_the_offer_form_is_answered_beside_each_field_and_kept(app, clients):
    start = utcnow().date() + timedelta(days=60)
    form = offer_form(start, facility_en="Base\x00", latitude="91", places_each=str(2**31), start_time="25:99",
                      unit="x" * 201, answer_by="2026-02-30", kind="castle")
    response = _post(clients["kz"], "/visits/new", {**form, "action": "save"}, "/visits/new")
    assert response.status_code == 200
    assert "control characters" in error_beside(response, "facility_en")
    assert "-90 to 90" in error_beside(response, "latitude")
    assert "too large" in error_beside(response, "places_each")
    assert "HH:MM" in error_beside(response, "start_time")
    assert error_beside(response, "unit")  # over-long
    assert "YYYY-MM-DD" in error_beside(response, "answer_by")
    assert input_value(response, "latitude") == "91" and input_value(response, "answer_by") == "2026-02-30"
    with app.app_context():
        assert db.session.scalar(select(Submission.id)) is None


def test_an_invited_state_row_naming_the_host_is_refused_beside_it(app, clients):
    start = utcnow().date() + timedelta(days=60)
    with app.app_context():
        kz_id = vf.state("KZ").id
    form = offer_form(start, invite_all_members=None, **{"invitations-0-state_id": str(kz_id),
                                                          "invitations-0-places": "2"})
    response = _post(clients["kz"], "/visits/new", {**form, "action": "save"}, "/visits/new")
    assert response.status_code == 200
    assert "does not invite itself" in error_beside(response, "invitations-0-state_id")


def _published(app, make_user_ids):
    with app.app_context():
        offer = vf.published_offer(*make_user_ids)
        return offer.reference


@pytest.fixture
def ids(app, make_user):
    return {"kz": make_user("officer", "KZ"), "reviewer": make_user("secretariat"), "cn": make_user("officer", "CN")}


def test_pages_around_visits_render_for_every_role(app, clients, ids):
    reference = _published(app, (ids["kz"].id, ids["reviewer"].id))
    for name, client in clients.items():
        for url in ("/visits/", "/visits/?when=all", f"/visits/{reference}", "/visits/states/KZ",
                    "/visits/requests/"):
            response = client.get(url)
            assert response.status_code == 200, (name, url)
    assert reference in clients["auditor"].get("/visits/?host=KZ&kind=air_base&invited=CN").get_data(as_text=True)
    assert reference not in clients["auditor"].get("/visits/?when=past").get_data(as_text=True)


@pytest.mark.parametrize("query", ["host=XX", "kind=castle", "status=%00", "from=2026-13-01", "when=later",
                                   "invited=K%C3%85", "to=9999-99-99"])
def test_bad_filters_are_ignored_with_a_message(clients, query):
    response = clients["auditor"].get(f"/visits/?{query}")
    assert response.status_code == 200
    assert "These filters were ignored." in response.get_data(as_text=True)


def test_a_draft_offer_is_invisible_to_other_states(app, clients, ids):
    with app.app_context():
        reference = vf.make_offer(ids["kz"].id).reference
    assert clients["cn"].get(f"/visits/{reference}").status_code == 404
    assert clients["kz"].get(f"/visits/{reference}").status_code == 200
    assert clients["reviewer"].get(f"/visits/{reference}").status_code == 200


def test_an_officer_of_a_state_not_invited_cannot_open_the_answer_form(app, clients, ids):
    with app.app_context():
        reference = vf.published_offer(ids["kz"].id, ids["reviewer"].id, invitations=[("CN", 2)]).reference
    assert clients["in"].get(f"/visits/{reference}/answer").status_code == 403
    assert clients["auditor"].get(f"/visits/{reference}/answer").status_code == 403
    response = _post(clients["in"], f"/visits/{reference}/answer", {"decision": "accepted"}, "/visits/")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(VisitAnswer.id)) is None


def test_a_late_answer_is_refused_with_a_clear_message(app, clients, ids, monkeypatch):
    reference = _published(app, (ids["kz"].id, ids["reviewer"].id))
    with app.app_context():
        due = visit_service.visit_of(db.session.scalar(select(Submission))).answer_by
    later = datetime.combine(due + timedelta(days=1), time(9), tzinfo=UTC)
    monkeypatch.setattr(visit_service, "utcnow", lambda: later)
    page = html.unescape(clients["cn"].get(f"/visits/{reference}/answer").get_data(as_text=True))
    assert f"Answers were due by {due.isoformat()}; it is too late to answer." in page
    response = _post(clients["cn"], f"/visits/{reference}/answer",
                     {"decision": "declined", "lock_version": ""}, "/visits/")
    assert response.status_code == 200
    assert "too late to answer" in html.unescape(response.get_data(as_text=True))


def test_postponement_and_cancellation_forms(app, clients, ids):
    reference = _published(app, (ids["kz"].id, ids["reviewer"].id))
    url = f"/visits/{reference}/postpone"
    assert clients["cn"].get(url).status_code == 403
    page = clients["kz"].get(url)
    lock = input_value(page, "lock_version")
    response = _post(clients["kz"], url, {"start_date": "2020-01-01", "end_date": "2019-01-01",
                                          "answer_by": "x", "lock_version": lock}, url)
    assert response.status_code == 200
    assert "after today" in error_beside(response, "start_date")
    assert "YYYY-MM-DD" in error_beside(response, "answer_by")
    new_start = utcnow().date() + timedelta(days=90)
    response = _post(clients["kz"], url, {"start_date": new_start.isoformat(),
                                          "end_date": (new_start + timedelta(days=1)).isoformat(),
                                          "answer_by": (new_start - timedelta(days=7)).isoformat(),
                                          "reason": "Weather.", "lock_version": lock}, url)
    assert response.status_code == 302
    response = _post(clients["kz"], url, {"start_date": new_start.isoformat(), "end_date": new_start.isoformat(),
                                          "answer_by": utcnow().date().isoformat(), "lock_version": lock}, url)
    assert response.status_code == 409  # the page was built before the first postponement
    cancel = f"/visits/{reference}/cancel"
    lock = input_value(clients["kz"].get(cancel), "lock_version")
    response = _post(clients["kz"], cancel, {"reason": " ", "lock_version": lock}, cancel)
    assert "required" in error_beside(response, "reason")
    response = _post(clients["kz"], cancel, {"reason": "Runway repairs.", "lock_version": lock}, cancel)
    assert response.status_code == 302
    assert "Runway repairs." in clients["cn"].get(f"/visits/{reference}").get_data(as_text=True)


def test_uploads_of_the_wrong_type_or_named_with_a_path_are_refused_beside_the_field(app, clients, ids):
    with app.app_context():
        offer = vf.published_offer(ids["kz"].id, ids["reviewer"].id)
        vf.answer(ids["cn"].id, offer)
        vf.held(ids["kz"].id, offer)
        report = vf.report(ids["kz"].id, offer, document=None)
        reference, lock = report.reference, report.lock_version
    edit = f"/visits/papers/{reference}/edit"
    for name, data, message in (("report.pdf", b"MZ\x90\x00 not a pdf", "PDF, PNG or JPEG"),
                                ("../report.pdf", vf.PDF, "without a folder")):
        response = clients["kz"].post(edit, content_type="multipart/form-data", data={
            "csrf_token": csrf_token(clients["kz"], edit), "lock_version": str(lock), "visibility": "members",
            "text": "Kept text", "action": "save", "document": (io.BytesIO(data), name)})
        assert response.status_code == 200
        assert message in error_beside(response, "document")
        assert "Kept text" in response.get_data(as_text=True)


def test_requests_for_a_visit_through_the_pages(app, clients):
    cn, kz = clients["cn"], clients["kz"]
    with app.app_context():
        kz_id = vf.state("KZ").id
    response = _post(cn, "/visits/requests/new", {"host_state_id": str(kz_id), "facility": "",
                                                  "purpose": "Peace Mission preparations."}, "/visits/requests/new")
    assert response.status_code == 200 and "required" in error_beside(response, "facility")
    response = _post(cn, "/visits/requests/new", {"host_state_id": str(kz_id), "facility": "Matybulak",
                                                  "purpose": "Peace Mission preparations."}, "/visits/requests/new")
    assert response.status_code == 302
    detail = response.location
    assert clients["ru"].get(detail).status_code == 404  # between the two states (and the Secretariat)
    assert "Matybulak" in clients["reviewer"].get(detail).get_data(as_text=True)
    reference = detail.rsplit("/", 1)[1]
    page = kz.get(detail)
    response = _post(kz, f"/visits/requests/{reference}/decide",
                     {"decision": "accept", "places": "3", "lock_version": input_value(page, "lock_version")},
                     detail)
    assert response.status_code == 302 and "/edit" in response.location
    assert kz.get(response.location).status_code == 200


@pytest.mark.parametrize(("size", "status", "message"), [
    (5 * 1024 * 1024, 302, None),  # more than a form may send anywhere else (4 MiB), within a document's limit
    (10 * 1024 * 1024 + 1, 200, "too large"),  # beside the field, the rest of the form kept
])
def test_a_signed_document_may_be_larger_than_other_forms(app, clients, ids, size, status, message):
    with app.app_context():
        offer = vf.published_offer(ids["kz"].id, ids["reviewer"].id)
        vf.answer(ids["cn"].id, offer)
        vf.held(ids["kz"].id, offer)
        report = vf.report(ids["kz"].id, offer, document=None)
        reference, lock = report.reference, report.lock_version
    edit = f"/visits/papers/{reference}/edit"
    document = vf.PDF + b"0" * (size - len(vf.PDF))
    # The body encoded in memory: the test client would spool a big one to a temporary file it never closes.
    boundary, body = encode_multipart(MultiDict({
        "csrf_token": csrf_token(clients["kz"], edit), "lock_version": str(lock), "visibility": "members",
        "text": "Kept text", "action": "save",
        "document": FileStorage(io.BytesIO(document), filename="signed.pdf", content_type="application/pdf")}))
    response = clients["kz"].post(edit, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == status
    if message:
        assert message in error_beside(response, "document") and "Kept text" in response.get_data(as_text=True)


def test_other_forms_keep_the_smaller_limit_and_the_document_page_has_one_too(clients):
    response = clients["kz"].post("/visits/new", data={"programme": "x" * (5 * 1024 * 1024)})
    assert response.status_code == 413
    response = clients["kz"].post("/visits/papers/VRP-2026-0001/edit", data={"text": "x" * (12 * 1024 * 1024)})
    assert response.status_code == 413
