"""Voluntary visits through the API: the host's offer is filed and reviewed like every record, its acceptance
sends the invitations, an invited state answers within its places, and a second answer needs the first's
version; the visit service's messages come back beside the fields."""

from tests.api_helpers import call, day, make_token


def offer(**overrides) -> dict:
    """The API twin of tests/visit_factories.offer_values: an air base near Almaty in 60 days."""
    body = {
        "kind": "air_base", "facility_ru": "Авиабаза Талдыкорган", "facility_zh": "塔尔迪库尔干空军基地",
        "facility_en": "Taldykorgan air base", "unit": "604th air base", "location": "Taldykorgan, Almaty region",
        "latitude": 45.1262, "longitude": 78.4469, "start_date": day(60), "start_time": "09:00",
        "end_date": day(61), "end_time": "17:00",
        "programme": "Briefing; flight line; simulator centre; meeting with the commander.",
        "point_of_entry": "Almaty International Airport", "cost_travel": "visiting",
        "cost_local_transport": "host", "cost_accommodation": "host", "cost_interpretation": "host",
        "interpret_ru": True, "interpret_zh": True, "invite_all_members": False,
        "invitations": [{"state": "CN", "places": 2}], "answer_by": day(50),
    }
    body.update(overrides)
    return body


def test_an_offer_is_reviewed_then_answered_within_its_places(app, client, make_user):
    host = make_token(app, make_user("officer", "KZ"))
    reviewer = make_token(app, make_user("secretariat"))
    guest = make_token(app, make_user("officer", "CN"))
    outsider = make_token(app, make_user("officer", "KG"))

    created = call(client, "POST", "/api/v1/visits", host, json=offer())
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    assert created.get_json()["offer"]["invitations"] == [{"state": "CN", "places": 2}]
    assert created.get_json()["offer"]["start_time"] == "09:00"
    submitted = call(client, "POST", f"/api/v1/records/{reference}/submit", host,
                     headers={"If-Match": created.headers["ETag"]})
    assert submitted.status_code == 200, submitted.get_json()
    # Not yet published: the invited state cannot answer (nor even see it).
    assert call(client, "POST", f"/api/v1/visits/{reference}/answer", guest,
                json={"decision": "declined"}).status_code == 404
    accepted = call(client, "POST", f"/api/v1/records/{reference}/accept", reviewer,
                    headers={"If-Match": submitted.headers["ETag"]})
    assert accepted.status_code == 200
    assert call(client, "GET", f"/api/v1/visits/{reference}", guest).get_json()["visit"]["status"] == \
        "invitations_sent"

    people = [{"name": f"Colonel {n}", "rank": "Colonel", "post": "Air staff"} for n in range(3)]
    too_many = call(client, "POST", f"/api/v1/visits/{reference}/answer", guest,
                    json={"decision": "accepted", "participants": people})
    assert too_many.status_code == 422
    assert too_many.get_json()["errors"][0]["detail"] == \
        "Your state has 2 places on this visit: name at most 2 participants."
    answered = call(client, "POST", f"/api/v1/visits/{reference}/answer", guest,
                    json={"decision": "accepted", "participants": people[:2]})
    assert answered.status_code == 200
    answer = answered.get_json()["answers"][0]
    assert answer["state"] == "CN" and answer["participant_count"] == 2 and len(answer["participants"]) == 2

    # Replacing the answer needs its version; the host sees the names; a third member state reads the published
    # offer but not the names of another state's participants, and cannot answer.
    assert call(client, "POST", f"/api/v1/visits/{reference}/answer", guest,
                json={"decision": "declined"}).status_code == 428
    assert call(client, "POST", f"/api/v1/visits/{reference}/answer", guest, json={"decision": "declined"},
                headers={"If-Match": f'"{answer["version"] + 5}"'}).status_code == 412
    declined = call(client, "POST", f"/api/v1/visits/{reference}/answer", guest, json={"decision": "declined"},
                    headers={"If-Match": f'"{answer["version"]}"'})
    assert declined.get_json()["answers"][0]["decision"] == "declined"
    assert call(client, "GET", f"/api/v1/visits/{reference}", host).get_json()["answers"][0]["participants"] == []
    other_view = call(client, "GET", f"/api/v1/visits/{reference}", outsider).get_json()
    assert other_view["answers"][0]["participants"] is None
    assert call(client, "POST", f"/api/v1/visits/{reference}/answer", outsider,
                json={"decision": "declined"}).status_code == 403
    listed = call(client, "GET", "/api/v1/visits?host=KZ&when=all", guest).get_json()["items"]
    assert [v["reference"] for v in listed] == [reference]


def test_offer_errors_are_the_services_messages_beside_the_fields(app, client, make_user):
    host = make_token(app, make_user("officer", "KZ"))
    response = call(client, "POST", "/api/v1/visits", host, json=offer(
        start_time="9h", invitations=[{"state": "KZ", "places": 0}], visibility="public", end_date=day(10)))
    assert response.status_code == 422
    errors = {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}
    assert errors["/start_time"] == "Enter a time as HH:MM (24-hour clock)."
    assert errors["/invitations/0/state"] == "The host state does not invite itself."
    assert errors["/invitations/0/places"] == "Enter from 1 to 50 places."
    assert errors["/end_date"] == "The end date cannot be before the start date."
    secret = call(client, "POST", "/api/v1/visits", host, json={**offer(), "visibility": "secretariat"})
    assert secret.status_code == 422  # the schema offers only what the service accepts for an offer
    assert call(client, "GET", "/api/v1/visits?when=soon", host).status_code == 422


def test_the_host_postpones_and_cancels_with_the_visits_own_version(app, client, make_user):
    host = make_token(app, make_user("officer", "KZ"))
    reviewer = make_token(app, make_user("secretariat"))
    guest = make_token(app, make_user("officer", "CN"))
    created = call(client, "POST", "/api/v1/visits", host, json=offer())
    reference = created.get_json()["reference"]
    submitted = call(client, "POST", f"/api/v1/records/{reference}/submit", host,
                     headers={"If-Match": created.headers["ETag"]})
    accepted = call(client, "POST", f"/api/v1/records/{reference}/accept", reviewer,
                    headers={"If-Match": submitted.headers["ETag"]})
    assert accepted.status_code == 200
    version = call(client, "GET", f"/api/v1/visits/{reference}", host).get_json()["visit"]["version"]
    url = f"/api/v1/visits/{reference}"

    new_dates = {"start_date": day(80), "end_date": day(81), "answer_by": day(70), "reason": "Weather."}
    assert call(client, "POST", url + "/postpone", host, json=new_dates).status_code == 428
    assert call(client, "POST", url + "/postpone", guest, json=new_dates,
                headers={"If-Match": f'"{version}"'}).status_code == 403
    late = call(client, "POST", url + "/postpone", host, json={**new_dates, "answer_by": day(90)},
                headers={"If-Match": f'"{version}"'})
    assert late.get_json()["errors"][0]["detail"] == "The answers must be due before the visit starts."
    postponed = call(client, "POST", url + "/postpone", host, json=new_dates, headers={"If-Match": f'"{version}"'})
    assert postponed.status_code == 200
    life = postponed.get_json()["visit"]
    assert life["status"] == "postponed" and life["start_date"] == day(80) and life["postponements"] == 1
    assert call(client, "POST", url + "/cancel", host, json={"reason": "x"},
                headers={"If-Match": f'"{version}"'}).status_code == 412
    early = call(client, "POST", url + "/held", host, headers={"If-Match": f'"{life["version"]}"'})
    assert early.status_code == 422 and "it can be recorded as held from that day" in early.get_json()["errors"][0][
        "detail"]
    no_reason = call(client, "POST", url + "/cancel", host, json={}, headers={"If-Match": f'"{life["version"]}"'})
    assert no_reason.get_json()["errors"][0] == {"pointer": "/reason", "field": "reason",
                                                 "detail": "This field is required."}
    cancelled = call(client, "POST", url + "/cancel", host, json={"reason": "Runway works."},
                     headers={"If-Match": f'"{life["version"]}"'})
    assert cancelled.get_json()["visit"]["status"] == "cancelled"
    assert call(client, "GET", url, guest).get_json()["visit"]["cancel_reason"] == "Runway works."
