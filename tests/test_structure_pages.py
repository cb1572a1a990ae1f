"""The structure disclosure pages as their readers use them: versions compared on the record page, who reads an
accepted disclosure, the Secretariat filing on a state's behalf, the templates, a chart without inline code."""

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from registry.db import db
from registry.models import MemberState, Submission
from tests.conftest import csrf_token, login
from tests.structure_helpers import act, kyrgyz_csv, open_disclosure, save_and_submit, unit_op, upload


def _accepted_kyrgyz(app, make_user, year=2027):
    officer, reviewer = make_user("officer", "KG"), make_user("secretariat")
    kg, secretariat = app.test_client(), app.test_client()
    login(kg, officer)
    login(secretariat, reviewer)
    reference = open_disclosure(kg, year)
    assert upload(kg, reference, kyrgyz_csv()).status_code == 302
    assert save_and_submit(kg, reference).status_code == 302
    assert act(secretariat, reference, "accept").status_code == 302
    return kg, secretariat, reference


def test_versions_of_one_disclosure_are_compared_on_its_page(app, make_user):
    kg, secretariat, reference = _accepted_kyrgyz(app, make_user)
    response = act(kg, reference, "amend")
    assert response.status_code == 302 and response.location.endswith(f"/structures/{reference}/edit")
    assert unit_op(kg, reference, "BT", "save_unit", kind="border_troops", name_ru="Пограничная служба",
                   name_en="Border Service", hq_location="Bishkek").status_code == 302
    html = kg.get(f"/structures/{reference}?a=1&b=2").get_data(as_text=True)
    assert "Changes from version 1 to version 2" in html
    assert "Unit renamed: Border Troops is now Border Service." in html
    assert kg.get(f"/structures/{reference}?a=1&b=9").status_code == 404
    # Others read the accepted version (1) while version 2 is drafted.
    other = app.test_client()
    login(other, make_user("officer", "KZ"))
    html = other.get(f"/structures/{reference}").get_data(as_text=True)
    assert "Border Troops" in html and "Border Service" not in html


def test_other_members_read_an_accepted_disclosure_and_partners_do_not(app, make_user):
    kg, secretariat, first = _accepted_kyrgyz(app, make_user)
    member, partner = app.test_client(), app.test_client()
    login(member, make_user("officer", "KZ"))
    login(partner, make_user("officer", "MN"))
    assert member.get(f"/structures/{first}").status_code == 200
    assert first in member.get("/structures/").get_data(as_text=True)
    assert partner.get(f"/structures/{first}").status_code == 404
    assert first not in partner.get("/structures/").get_data(as_text=True)
    assert first not in partner.get("/structures/compare/KG").get_data(as_text=True)
    draft = open_disclosure(kg, 2028)
    assert member.get(f"/structures/{draft}").status_code == 404
    assert "Two accepted disclosures of this state are needed" in member.get("/structures/compare/KG").get_data(
        as_text=True)


def test_the_secretariat_enters_a_disclosure_on_a_states_behalf(app, client, make_user):
    login(client, make_user("secretariat"))
    with app.app_context():
        tj_id = db.session.scalar(select(MemberState.id).where(MemberState.code == "TJ"))
    response = client.post("/structures/new", data={
        "csrf_token": csrf_token(client, "/structures/new"), "year": "2027", "visibility": "members",
        "original_language": "ru", "state_id": str(tj_id), "source_document": "Note verbale No. 12/2026"})
    assert response.status_code == 302
    reference = re.search(r"(MOD-\d{4}-\d{4})", response.location).group(1)
    assert upload(client, reference, kyrgyz_csv()).status_code == 302
    html = client.get(f"/structures/{reference}").get_data(as_text=True)
    assert "Tajikistan" in html and "Note verbale No. 12/2026" in html
    with app.app_context():
        record = db.session.scalar(select(Submission).where(Submission.reference == reference))
        assert record.entered_on_behalf and record.due_date.isoformat() == "2026-12-15"


def test_the_templates_download_as_csv_and_xlsx(client, login_as):
    login_as("auditor")
    csv_response = client.get("/structures/template")
    assert csv_response.headers["Content-Disposition"] == "attachment; filename=structure-template.csv"
    assert csv_response.data.startswith(b"\xef\xbb\xbftype,key,parent,kind,name_ru")
    xlsx = client.get("/structures/template?format=xlsx")
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[1]][:4] == ["type", "key", "parent", "kind"]


def test_the_chart_is_nested_lists_with_no_inline_code_and_a_print_style(app, make_user):
    kg, secretariat, reference = _accepted_kyrgyz(app, make_user)
    html = kg.get(f"/structures/{reference}").get_data(as_text=True)
    chart = html.split('<div class="org-chart">')[1]
    assert "<script" not in html and " style=" not in html and "<style" not in html
    assert re.search(r'<li id="unit-MOD" class="">\s*<div class="box">\s*<strong>Ministry of Defence</strong>', chart)
    assert re.search(r'<li id="unit-GS" class="">', chart.split('id="unit-MOD"')[1])  # GS nested under MOD
    assert "Deputy Minister: Major General Asanov Bakyt" in chart
    response = kg.get("/static/style.css")
    css = response.get_data(as_text=True)
    response.close()
    print_rules = css[css.index("/* structure disclosures"):]
    assert "@media print" in print_rules and "break-inside: avoid" in print_rules
    overview = secretariat.get("/structures/overview").get_data(as_text=True)
    assert "Kyrgyzstan" in overview and "No accepted disclosure." in overview  # the other members
