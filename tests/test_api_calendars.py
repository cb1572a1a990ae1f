"""Annual calendars through the API: the calendar service's checks and messages, the shared workflow, and the
list page's visibility."""

from tests.api_helpers import call, make_token

ENTRY = {"designation": "Tien Shan", "exercise_type": "command_post", "planned_start": "2030-05-10",
         "planned_end": "2030-05-20", "troops": 3000}


def test_a_calendar_is_filed_reviewed_and_read_by_another_state(app, client, make_user):
    officer = make_token(app, make_user("officer", "KZ"))
    reviewer = make_token(app, make_user("secretariat"))
    other = make_token(app, make_user("officer", "CN"))

    empty = call(client, "POST", "/api/v1/calendars", officer, json={"year": 2030})
    assert empty.status_code == 201
    reference = empty.get_json()["reference"]
    assert reference.startswith("CAL-")
    refused = call(client, "POST", f"/api/v1/records/{reference}/submit", officer,
                   headers={"If-Match": empty.headers["ETag"]})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "entries"

    saved = call(client, "PUT", f"/api/v1/calendars/{reference}", officer, json={"entries": [ENTRY]},
                 headers={"If-Match": empty.headers["ETag"]})
    assert saved.status_code == 200 and saved.get_json()["calendar"]["entries"][0]["troops"] == 3000
    submitted = call(client, "POST", f"/api/v1/records/{reference}/submit", officer,
                     headers={"If-Match": saved.headers["ETag"]})
    assert submitted.get_json()["status"] == "submitted"
    assert call(client, "GET", "/api/v1/calendars?state=KZ", other).get_json()["items"] == []
    accepted = call(client, "POST", f"/api/v1/records/{reference}/accept", reviewer,
                    headers={"If-Match": submitted.headers["ETag"]})
    assert accepted.get_json()["status"] == "accepted"

    listed = call(client, "GET", "/api/v1/calendars?state=KZ&year=2030", other).get_json()["items"]
    assert [(c["reference"], c["year"], c["entry_count"]) for c in listed] == [(reference, 2030, 1)]
    assert call(client, "GET", f"/api/v1/calendars/{reference}", other).get_json()["calendar"]["entries"][0][
        "designation"] == "Tien Shan"


def test_calendar_entries_are_checked_by_the_service_with_its_messages(app, client, make_user):
    officer = make_token(app, make_user("officer", "KZ"))
    bad = {**ENTRY, "planned_start": "2031-01-01", "troops": -3}
    response = call(client, "POST", "/api/v1/calendars", officer, json={"year": 2030, "entries": [bad]})
    assert response.status_code == 422
    errors = {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}
    assert errors["/entries/0/planned_start"] == "The date must fall in 2030, the calendar's year."
    assert errors["/entries/0/troops"] == "Enter a number of 0 or more."
    assert call(client, "POST", "/api/v1/calendars", officer, json={"year": 1800}).get_json()["errors"][0][
        "detail"] == "Enter a year from 1990 to 2100."
    assert call(client, "POST", "/api/v1/calendars", officer, json={"year": 2030}).status_code == 201
    again = call(client, "POST", "/api/v1/calendars", officer, json={"year": 2030})
    assert again.get_json()["errors"][0]["detail"] == "Your state already has a calendar for 2030: amend that one."
    assert call(client, "GET", "/api/v1/calendars?year=20", officer).status_code == 422
