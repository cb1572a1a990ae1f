"""Bad input on the visit forms and addresses (shared/RELIABILITY.md, "Bad input to try"), on both backends.

Every case answers with a message beside the field (or 404), never a 500; nothing is stored, and what was typed
comes back as typed.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from registry.db import db, utcnow
from registry.models import AuditEntry, Submission, VisitAnswer, VisitRequest
from tests import visit_factories as vf
from tests.conftest import csrf_token, login
from tests.test_exercise_pages import error_beside, input_value
from tests.test_visit_pages import offer_form

CONTROL = "Remove the control characters from this field."
START = utcnow().date() + timedelta(days=60)

OFFER_CASES = [
    ("facility_ru", "База\x00", CONTROL),
    ("facility_zh", "基地\u202e", CONTROL),
    ("facility_en", "Base\r\nX-Injected: 1", CONTROL),
    ("unit", "u" * 201, "At most 200 characters."),
    ("point_of_entry", "p" * 201, "At most 200 characters."),
    ("facility_en", "f" * 301, "At most 300 characters."),
    ("latitude", "NaN", "-90 to 90"),
    ("latitude", "1e309", "-90 to 90"),
    ("longitude", "-181", "-180 to 180"),
    ("longitude", "east", "decimal degrees"),
    ("places_each", "-1", "0 or more"),
    ("places_each", "2.5", "whole number"),
    ("places_each", str(2**63), "too large"),
    ("places_each", "51", "from 1 to 50"),
    ("start_date", "0000-00-00", "YYYY-MM-DD"),
    ("end_date", "2027-02-29", "YYYY-MM-DD"),
    ("answer_by", "9999-12-31", "between"),
    ("start_time", "9am", "HH:MM"),
    ("end_time", "24:00", "HH:MM"),
    ("kind", "<script>", "Choose a value from the list."),
    ("cost_travel", "everyone", "Choose a value from the list."),
]


@pytest.fixture
def kz(app, client, make_user):
    person = make_user("officer", "KZ")
    assert login(client, person).status_code == 302
    return person


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("field", "value", "message"), OFFER_CASES, ids=[f"{f}-{i}" for i, (f, _v, _m) in
                                                                         enumerate(OFFER_CASES)])
def test_the_offer_form_refuses_bad_input_beside_the_field(app, client, kz, field, value, message):
    before = _count(app, AuditEntry)
    response = client.post("/visits/new", data={**offer_form(START, **{field: value}), "action": "save",
                                                "csrf_token": csrf_token(client, "/visits/new")})
    assert response.status_code == 200
    assert message in error_beside(response, field)
    if field not in ("kind", "cost_travel") and input_value(response, field) is not None:
        assert input_value(response, field) == value.strip() or "\x00" in value or "\r" in value
    assert _count(app, Submission) == 0 and _count(app, AuditEntry) == before


@pytest.mark.parametrize("markup", ["<script>alert(1)</script>", "{{7*7}}", '"><img src=x onerror=alert(1)>'])
def test_markup_in_an_offer_is_stored_and_shown_literally(app, client, kz, markup):
    response = client.post("/visits/new", data={**offer_form(START, programme=markup), "action": "save",
                                                "csrf_token": csrf_token(client, "/visits/new")})
    assert response.status_code == 302
    with app.app_context():
        reference = db.session.scalar(select(Submission.reference))
    page = client.get(f"/visits/{reference}").get_data(as_text=True)
    shown = page.split("Programme")[1][:300]
    if "<" in markup or '"' in markup:
        assert markup not in page  # escaped, never markup
    else:
        assert markup in shown and "49" not in shown  # a template expression shows literally


def test_status_state_and_reviewer_fields_in_a_post_are_ignored(app, client, kz):
    with app.app_context():
        cn = vf.state("CN").id
    response = client.post("/visits/new", data={
        **offer_form(START), "action": "save", "status": "accepted", "state_id": str(cn), "decided_by_id": "1",
        "visit_status": "held", "csrf_token": csrf_token(client, "/visits/new")})
    assert response.status_code == 302
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        assert submission.status.value == "draft" and submission.state.code == "KZ"
        assert submission.decided_by_id is None


def test_a_repeated_kind_is_refused(app, client, kz):
    form = offer_form(START)
    form.pop("kind")
    data = MultiDict(list(form.items()) + [("kind", "air_base"), ("kind", "naval_base"), ("action", "save"),
                                           ("csrf_token", csrf_token(client, "/visits/new"))])
    response = client.post("/visits/new", data=data)
    assert response.status_code == 200
    assert "Choose only one value." in error_beside(response, "kind")
    assert _count(app, Submission) == 0


@pytest.mark.parametrize("reference", ["VIS-2026-0001%00", "VIS-9999-99999999999", "../etc/passwd", "x" * 500,
                                       "EXN-2026-0001", "VIS-2026-0001\u202e"])
@pytest.mark.parametrize("suffix", ["", "/edit", "/answer", "/postpone", "/cancel"])
def test_odd_or_unknown_references_are_404(app, client, kz, reference, suffix):
    assert client.get(f"/visits/{reference}{suffix}").status_code == 404


@pytest.mark.parametrize("url", ["/visits/papers/VRP-2026-0001/document/99999999999999999999",
                                 "/visits/papers/VRP-2026-0001/document/0", "/visits/requests/VRQ-0-0",
                                 "/visits/states/K%00", "/visits/states/KZZ", "/visits/requests/%F0%9F%98%80"])
def test_odd_addresses_around_visits_are_404(app, client, kz, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("field", "value", "message"), [
    ("participants-0-name", "Li\x00", CONTROL),
    ("participants-0-name", "", "This field is required."),
    ("participants-0-rank", "r" * 201, "At most 200 characters."),
    ("decision", "maybe", "Choose a value from the list."),
])
def test_the_answer_form_refuses_bad_input_beside_the_field(app, client, make_user, field, value, message):
    kz, reviewer, cn = make_user("officer", "KZ"), make_user("secretariat"), make_user("officer", "CN")
    with app.app_context():
        reference = vf.published_offer(kz.id, reviewer.id).reference
    assert login(client, cn).status_code == 302
    url = f"/visits/{reference}/answer"
    data = {"decision": "accepted", "participants-0-name": "Li Wei", "participants-0-rank": "Colonel",
            "participants-0-post": "Staff", "lock_version": "", field: value}
    response = client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    assert message in error_beside(response, field)
    assert _count(app, VisitAnswer) == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("facility", "F\x00", CONTROL),
    ("facility", "f" * 301, "At most 300 characters."),
    ("purpose", "", "This field is required."),
    ("preferred_from", "2020-01-01", "after today"),
    ("host_state_id", str(2**63), "member state"),
    ("host_state_id", "abc", "member state"),
])
def test_the_request_form_refuses_bad_input_beside_the_field(app, client, make_user, field, value, message):
    cn = make_user("officer", "CN")
    assert login(client, cn).status_code == 302
    with app.app_context():
        kz = vf.state("KZ").id
    data = {"host_state_id": str(kz), "facility": "Base", "purpose": "Why.", field: value}
    response = client.post("/visits/requests/new",
                           data={**data, "csrf_token": csrf_token(client, "/visits/requests/new")})
    assert response.status_code == 200
    assert message in error_beside(response, field)
    assert _count(app, VisitRequest) == 0
