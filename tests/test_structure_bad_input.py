"""Bad input on the structure disclosure pages (shared/RELIABILITY.md, "Bad input to try"): every case answers
with a message beside the field concerned (or 400/404/409/413), never a 500, and stores nothing."""

import html as html_lib
import io
import re

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.models import AuditEntry, StructureHolder, StructurePosition, StructureUnit, Submission
from tests.conftest import csrf_token, login
from tests.structure_helpers import act, kyrgyz_csv, lock_of, open_disclosure, save_and_submit, unit_op, upload

CONTROL = "Remove the control characters from this field."
CONTROL_CHARACTERS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\n", "\r", "\u202e", "\u2066"]
MARKUP = ["<script>alert(1)</script>", "{{7*7}}", '"><img src=x onerror=alert(1)>']


def error_beside(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    return html_lib.unescape(match.group(1)) if match else ""


def stored(app) -> tuple:
    with app.app_context():
        units = db.session.execute(select(StructureUnit.key, StructureUnit.parent_key, StructureUnit.name_ru,
                                          StructureUnit.name_en, StructureUnit.kind).order_by(StructureUnit.id)).all()
        holders = db.session.execute(select(StructureHolder.name_latin, StructureHolder.appointed_on,
                                            StructureHolder.left_on).order_by(StructureHolder.id)).all()
        counts = [db.session.scalar(select(func.count()).select_from(m))
                  for m in (StructurePosition, Submission, AuditEntry)]
        return units, holders, counts


@pytest.fixture
def draft(app, client, make_user):
    """Kyrgyzstan's officer signed in, with a draft holding the imported Kyrgyz chart."""
    login(client, make_user("officer", "KG"))
    reference = open_disclosure(client, 2027)
    assert upload(client, reference, kyrgyz_csv()).status_code == 302
    return reference


UNIT_FIELDS = ["name_ru", "name_zh", "name_en", "hq_location"]


@pytest.mark.parametrize("field", UNIT_FIELDS)
@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in CONTROL_CHARACTERS])
def test_control_characters_in_a_unit_name_are_refused_beside_the_field(app, client, draft, field, char):
    before = stored(app)
    response = unit_op(client, draft, "GS", "save_unit", **{"kind": "general_staff", "name_ru": "Генштаб",
                                                            "name_en": "General Staff", field: f"General{char}Staff"})
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True), f"save_unit--{field}") == CONTROL
    assert stored(app) == before


@pytest.mark.parametrize(("field", "limit"), [("name_ru", 300), ("name_en", 300), ("hq_location", 200)])
def test_over_long_unit_fields_are_refused_and_the_maximum_is_kept(app, client, draft, field, limit):
    before = stored(app)
    response = unit_op(client, draft, "GS", "save_unit", **{"kind": "general_staff", "name_ru": "Генштаб",
                                                            "name_en": "General Staff", field: "я" * (limit + 1)})
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True), f"save_unit--{field}") == f"At most {limit} characters."
    assert stored(app) == before
    response = unit_op(client, draft, "GS", "save_unit", **{"kind": "general_staff", "name_ru": "Генштаб",
                                                            "name_en": "General Staff", field: "я" * limit})
    assert response.status_code == 302
    with app.app_context():
        assert len(getattr(db.session.scalar(select(StructureUnit).where(StructureUnit.key == "GS")), field)) == limit


@pytest.mark.parametrize("kind", ["", "galaxy", "ministry\x00", "MINISTRY"])
def test_an_unknown_unit_kind_is_refused(app, client, draft, kind):
    before = stored(app)
    response = unit_op(client, draft, "GS", "save_unit", kind=kind, name_ru="Генштаб", name_en="General Staff")
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True), "save_unit--kind") == "Choose a value from the list."
    assert stored(app) == before


@pytest.mark.parametrize("name", MARKUP)
def test_markup_in_names_is_stored_and_shown_literally(app, client, draft, name):
    assert unit_op(client, draft, "GS", "save_unit", kind="general_staff", name_ru="Генштаб",
                   name_en=name).status_code == 302
    html = client.get(f"/structures/{draft}").get_data(as_text=True)
    if any(c in name for c in '<>"'):
        assert name not in html
    assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in html
    chart = html.split('id="chart-h"')[1].split("</section>")[0]
    assert "49" not in re.sub(r"\d{4}-\d{2}-\d{2}|MOD-\d{4}-\d{4}", "", chart)


HOLDER_DATES = [
    ("appointed_on", "2027-02-30", "Enter a date as YYYY-MM-DD."),
    ("appointed_on", "0000-00-00", "Enter a date as YYYY-MM-DD."),
    ("appointed_on", "9999-12-31", "Enter a date from 1990 to 2100."),
    ("appointed_on", "", "This field is required."),
    ("appointed_on", "yesterday", "Enter a date as YYYY-MM-DD."),
    ("left_on", "2019-01-01", "The date left cannot be before the date appointed."),
    ("left_on", "2023-02-29", "Enter a date as YYYY-MM-DD."),
]


@pytest.mark.parametrize(("field", "value", "message"), HOLDER_DATES)
def test_bad_holder_dates_are_refused_beside_the_field(app, client, draft, field, value, message):
    before = stored(app)
    data = {"target": "DEP", "name_ru": "Новый", "name_latin": "Novyi", "appointed_on": "2020-01-01", field: value}
    response = unit_op(client, draft, "MOD", "add_holder", **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_beside(html, f"add_holder-DEP-{field}") == message
    assert f'value="{value}"' in html  # what was typed comes back as typed
    assert stored(app) == before


def test_a_holder_with_no_name_at_all_is_refused(app, client, draft):
    before = stored(app)
    response = unit_op(client, draft, "MOD", "add_holder", target="DEP", appointed_on="2020-01-01")
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True), "add_holder-DEP-name_latin") == "Give the holder's name."
    assert stored(app) == before


@pytest.mark.parametrize(("op", "data"), [
    ("save_holder", {"target": str(2**31), "name_latin": "X", "name_ru": "Х", "appointed_on": "2020-01-01"}),
    ("save_holder", {"target": str(2**64), "name_latin": "X", "name_ru": "Х", "appointed_on": "2020-01-01"}),
    ("remove_holder", {"target": "-1"}),
    ("remove_holder", {"target": "\x00"}),
    ("save_position", {"target": "NOPE", "kind": "deputy"}),
    ("remove_position", {"target": "P\x00"}),
    ("add_holder", {"target": "ZZZ", "name_latin": "X", "name_ru": "Х", "appointed_on": "2020-01-01"}),
    ("move", {"parent_key": "NOWHERE"}),
    ("move", {"parent_key": "\x00"}),
    ("save_position", {"target": "MIN", "kind": "minister", "unit_key": "NOWHERE"}),
])
def test_unknown_or_forged_targets_are_a_message_not_a_crash(app, client, draft, op, data):
    before = stored(app)
    response = unit_op(client, draft, "MOD", op, **data)
    assert response.status_code == 422
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert stored(app) == before


def test_an_unknown_operation_is_400_and_unknown_units_404(app, client, draft):
    before = stored(app)
    assert unit_op(client, draft, "MOD", "drop_table").status_code == 400
    assert client.get(f"/structures/{draft}/units/NOPE").status_code == 404
    assert client.get(f"/structures/{draft}/units/%00").status_code == 404
    assert client.get(f"/structures/{draft}/units/" + "k" * 5000).status_code == 404
    assert stored(app) == before


def test_a_move_under_its_own_unit_or_a_removal_with_children_is_explained(app, client, draft):
    before = stored(app)
    response = unit_op(client, draft, "MOD", "move", parent_key="GS")
    assert response.status_code == 422
    assert error_beside(response.get_data(as_text=True), "move--parent_key") == (
        "A unit cannot be placed under itself or one of its own units.")
    response = unit_op(client, draft, "MOD", "remove")
    assert response.status_code == 422
    assert "This unit has 3 unit(s) and 4 post(s) under it." in error_beside(response.get_data(as_text=True),
                                                                            "remove--cascade")
    assert stored(app) == before
    response = unit_op(client, draft, "GS", "remove", cascade="y")
    assert response.status_code == 302
    assert "Units (3)" in client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize("lock", ["0", "999999", "", "abc", str(2**64)])
def test_a_stale_or_forged_lock_version_is_a_conflict_and_saves_nothing(app, client, draft, lock):
    before = stored(app)
    url = f"/structures/{draft}/units/GS"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "lock_version": lock,
                                      "op": "save_unit", "kind": "general_staff", "name_ru": "Х", "name_en": "X"})
    assert response.status_code == 302
    assert "This record changed since you opened it." in client.get(url).get_data(as_text=True)
    assert stored(app) == before


def test_ministry_names_with_control_characters_are_refused_beside_the_field(app, client, draft):
    url = f"/structures/{draft}/edit"
    before = stored(app)
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "lock_version": lock_of(page),
                                      "visibility": "members", "action": "save", "ministry_name_ru": "МО\x00",
                                      "ministry_name_en": "x" * 301})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert error_beside(html, "ministry_name_ru") == CONTROL
    assert error_beside(html, "ministry_name_en") == "At most 300 characters."
    assert stored(app) == before


@pytest.mark.parametrize(("year", "message"), [
    ("", "Enter a year from 1990 to 2100."), ("abc", "Enter a year from 1990 to 2100."),
    ("1989", "Enter a year from 1990 to 2100."), (str(2**31), "Enter a year from 1990 to 2100."),
    ("2027\x00", "Enter a year from 1990 to 2100."), ("2027", "Your state already has a disclosure as of "
                                                              "2027-01-01: amend that one."),
])
def test_the_new_disclosure_form_refuses_bad_years_beside_the_field(app, client, draft, year, message):
    before = stored(app)
    response = client.post("/structures/new", data={"csrf_token": csrf_token(client, "/structures/new"),
                                                    "year": year, "visibility": "members",
                                                    "original_language": "ru"})
    assert response.status_code == 200
    assert error_beside(response.get_data(as_text=True), "year") == message
    assert stored(app) == before


def test_mass_assignment_on_the_new_form_cannot_pick_another_state(app, client, draft):
    response = client.post("/structures/new", data={"csrf_token": csrf_token(client, "/structures/new"),
                                                    "year": "2031", "visibility": "members", "state_id": "1",
                                                    "original_language": "ru", "status": "accepted"})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalar(select(Submission).order_by(Submission.id.desc()))
        assert record.state.code == "KG" and record.status.value == "draft"


def test_a_5_mb_upload_is_413_and_stores_nothing(app, client, draft):
    before = stored(app)
    url = f"/structures/{draft}/import"
    page = client.get(url).get_data(as_text=True)
    boundary = "----registry-test"
    parts = [(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n').encode()
             for name, value in (("csrf_token", csrf_token(client, url)), ("lock_version", lock_of(page)))]
    parts.append((f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
                   "Content-Type: text/csv\r\n\r\n").encode() + b"x" * (5 * 1024 * 1024) + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert stored(app) == before


@pytest.mark.parametrize("query", ["a=%00&b=%00", "a=EXN-2000-0001&b=MOD-2000-0001", "a=" + "M" * 5000 + "&b=x",
                                   "a=MOD-2026-0001", "a=mod-2026-0001&b=MOD-2026-0001%0A"])
def test_bad_comparison_queries_are_a_message(app, client, draft, query):
    response = client.get(f"/structures/compare/KG?{query}")
    assert response.status_code == 200
    assert "Choose two accepted disclosures from the lists." in response.get_data(as_text=True)


@pytest.mark.parametrize("code", ["ZZ", "K%00", "KGZ", "%D0%9AG", "1"])
def test_comparison_of_an_unknown_state_is_404(client, draft, code):
    assert client.get(f"/structures/compare/{code}").status_code == 404


def test_a_submitted_disclosure_cannot_be_edited_by_its_pages(app, client, draft, make_user):
    assert save_and_submit(client, draft).status_code == 302
    before = stored(app)
    response = client.get(f"/structures/{draft}/units/GS")
    assert response.status_code == 302 and response.location.endswith(f"/structures/{draft}")
    token = csrf_token(client, f"/structures/{draft}")
    response = client.post(f"/structures/{draft}/units/GS", data={
        "csrf_token": token, "lock_version": "4", "op": "save_unit", "kind": "service", "name_ru": "Х",
        "name_en": "X"})
    assert response.status_code == 302 and response.location.endswith(f"/structures/{draft}")
    response = client.post(f"/structures/{draft}/import", content_type="multipart/form-data", data={
        "csrf_token": token, "lock_version": "4", "file": (io.BytesIO(kyrgyz_csv()), "kg.csv")})
    assert response.status_code == 302 and response.location.endswith(f"/structures/{draft}")
    assert stored(app)[:2] == before[:2]
    reviewer = app.test_client()
    login(reviewer, make_user("secretariat"))
    assert act(reviewer, draft, "accept").status_code == 302


def test_other_states_and_other_roles_cannot_reach_the_draft(app, client, draft, make_user):
    before = stored(app)
    for role, state in (("officer", "KZ"), ("admin", None)):
        other = app.test_client()
        login(other, make_user(role, state or "KZ"))
        for url in (f"/structures/{draft}", f"/structures/{draft}/edit", f"/structures/{draft}/units/GS",
                    f"/structures/{draft}/import"):
            assert other.get(url).status_code == 404, (role, url)
    secretariat = app.test_client()
    login(secretariat, make_user("secretariat"))
    assert secretariat.get(f"/structures/{draft}").status_code == 200
    url = f"/structures/{draft}/units/GS"
    response = secretariat.post(url, data={"csrf_token": csrf_token(secretariat, "/structures/"), "lock_version": "1",
                                           "op": "save_unit", "kind": "service", "name_ru": "Х", "name_en": "X"})
    assert response.status_code == 403
    assert stored(app)[:2] == before[:2]
