"""Structure disclosures through the API: a draft, its chart replaced from the import template's CSV (checked
as a whole, problems with row and column), the ministry's names, submission and review through the shared
workflow, and the chart read back as its snapshot."""

from tests.api_helpers import call, make_token
from tests.structure_helpers import kyrgyz_csv


def test_a_disclosure_is_filed_from_the_template_and_reviewed(app, client, make_user):
    officer = make_token(app, make_user("officer", "KG"))
    reviewer = make_token(app, make_user("secretariat"))
    other = make_token(app, make_user("officer", "KZ"))
    created = call(client, "POST", "/api/v1/structures", officer, json={"year": 2027})
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    assert created.get_json()["structure"]["as_of"] == "2027-01-01"
    url = f"/api/v1/structures/{reference}"

    broken = kyrgyz_csv([*kyrgyz_csv().decode().splitlines()[1:], "unit,GS,MOD,nonsense,x,y,z,,,,,"])
    refused = call(client, "PUT", url + "/chart", officer, data=broken, content_type="text/csv",
                   headers={"If-Match": created.headers["ETag"]})
    assert refused.status_code == 422
    assert all(e["field"] == "file" for e in refused.get_json()["errors"])
    assert any("Row" in e["detail"] or "row" in e["detail"] for e in refused.get_json()["errors"])
    assert call(client, "GET", url, officer).get_json()["structure"]["units"] == []
    assert call(client, "PUT", url + "/chart", officer, data=kyrgyz_csv(), content_type="text/plain",
                headers={"If-Match": created.headers["ETag"]}).status_code == 415

    imported = call(client, "PUT", url + "/chart", officer, data=kyrgyz_csv(), content_type="text/csv",
                    headers={"If-Match": created.headers["ETag"]})
    assert imported.status_code == 200, imported.get_json()
    units = imported.get_json()["structure"]["units"]
    assert {u["key"] for u in units} == {"MOD", "GS", "ICD", "BT"}
    ministry = imported.get_json()["structure"]["ministry"]
    # PUT saves the names as sent: a name left out is emptied, so send them all.
    names = {f"ministry_name_{lang}": ministry[lang] for lang in ("ru", "zh", "native")}
    named = call(client, "PUT", url, officer, json={**names, "ministry_name_en": "Ministry of Defence (KG)"},
                 headers={"If-Match": imported.headers["ETag"]})
    assert named.status_code == 200 and named.get_json()["structure"]["ministry"]["en"] == "Ministry of Defence (KG)"
    submitted = call(client, "POST", f"/api/v1/records/{reference}/submit", officer,
                     headers={"If-Match": named.headers["ETag"]})
    assert submitted.status_code == 200, submitted.get_json()
    accepted = call(client, "POST", f"/api/v1/records/{reference}/accept", reviewer,
                    headers={"If-Match": submitted.headers["ETag"]})
    assert accepted.get_json()["status"] == "accepted"
    listed = call(client, "GET", "/api/v1/structures", other).get_json()["items"]
    assert [(d["reference"], d["as_of"]) for d in listed] == [(reference, "2027-01-01")]
    seen = call(client, "GET", url, other).get_json()
    assert {u["key"] for u in seen["structure"]["units"]} == {u["key"] for u in units} and seen["findings"] == []


def test_a_year_already_disclosed_is_refused_with_the_services_message(app, client, make_user):
    officer = make_token(app, make_user("officer", "KG"))
    assert call(client, "POST", "/api/v1/structures", officer, json={"year": 2027}).status_code == 201
    again = call(client, "POST", "/api/v1/structures", officer, json={"year": 2027})
    assert again.status_code == 422
    assert again.get_json()["errors"][0]["detail"] == \
        "Your state already has a disclosure as of 2027-01-01: amend that one."
