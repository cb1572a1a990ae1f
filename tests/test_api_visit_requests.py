"""Requests for a visit through the API: a state asks another, the host accepts (its draft offer opens,
inviting the asker with the places given) or declines, the asker may withdraw; the request's version in
If-Match; the service's messages beside the fields."""

from tests.api_helpers import call, day, make_token

ASK = {"host": "KZ", "facility": "Taldykorgan air base", "kind": "air_base", "preferred_from": day(90),
       "preferred_to": day(91), "purpose": "To see the flight line and the simulator centre."}


def test_a_request_is_accepted_and_opens_the_hosts_offer(app, client, make_user):
    asker = make_token(app, make_user("officer", "KG"))
    host = make_token(app, make_user("officer", "KZ"))
    outsider = make_token(app, make_user("officer", "CN"))

    created = call(client, "POST", "/api/v1/visit-requests", asker, json=ASK)
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    reference = item["reference"]
    assert reference.startswith("VRQ-") and item["status"] == "open" and item["requesting_state"] == "KG"
    assert item["actions"] == ["withdraw"]
    assert created.headers["Location"].endswith(f"/api/v1/visit-requests/{reference}")
    assert call(client, "GET", f"/api/v1/visit-requests/{reference}", outsider).status_code == 404
    read = call(client, "GET", f"/api/v1/visit-requests/{reference}", host)
    assert read.get_json()["actions"] == ["accept", "decline"]
    assert [r["reference"] for r in call(client, "GET", "/api/v1/visit-requests", host).get_json()["items"]] == \
        [reference]

    url = f"/api/v1/visit-requests/{reference}/accept"
    assert call(client, "POST", url, host, json={"places": 3}).status_code == 428
    assert call(client, "POST", url, asker, json={"places": 3}, headers={"If-Match": read.headers["ETag"]}) \
        .status_code == 403  # the asker does not decide
    stale = call(client, "POST", url, host, json={"places": 3}, headers={"If-Match": '"99"'})
    assert stale.status_code == 412
    accepted = call(client, "POST", url, host, json={"places": 3}, headers={"If-Match": read.headers["ETag"]})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted" and accepted.get_json()["actions"] == []
    offer = call(client, "GET", f"/api/v1/visits/{accepted.get_json()['offer']}", host).get_json()
    assert offer["status"] == "draft" and offer["state"] == "KZ"
    assert offer["offer"]["invitations"] == [{"state": "KG", "places": 3}]
    assert offer["offer"]["facility_en"] == "Taldykorgan air base"
    again = call(client, "POST", f"/api/v1/visit-requests/{reference}/decline", host, json={},
                 headers={"If-Match": accepted.headers["ETag"]})
    assert again.status_code == 409


def test_declined_withdrawn_and_refused_requests(app, client, make_user):
    asker = make_token(app, make_user("officer", "KG"))
    host = make_token(app, make_user("officer", "KZ"))

    own = call(client, "POST", "/api/v1/visit-requests", asker, json={**ASK, "host": "KG"})
    assert own.status_code == 422
    assert own.get_json()["errors"] == [{"pointer": "/host", "field": "host",
                                         "detail": "Your state cannot ask itself for a visit."}]
    early = call(client, "POST", "/api/v1/visit-requests", asker, json={**ASK, "preferred_from": day(0),
                                                                         "purpose": ""})
    assert early.status_code == 422
    assert {e["field"]: e["detail"] for e in early.get_json()["errors"]}["preferred_from"] == \
        "Choose a date after today."
    assert "purpose" in {e["field"] for e in early.get_json()["errors"]}

    first = call(client, "POST", "/api/v1/visit-requests", asker, json=ASK)
    declined = call(client, "POST", f"/api/v1/visit-requests/{first.get_json()['reference']}/decline", host,
                    json={"reason": "The runway is under repair."}, headers={"If-Match": first.headers["ETag"]})
    assert declined.status_code == 200
    assert declined.get_json()["status"] == "declined"
    assert declined.get_json()["decline_reason"] == "The runway is under repair."

    second = call(client, "POST", "/api/v1/visit-requests", asker, json=ASK)
    url = f"/api/v1/visit-requests/{second.get_json()['reference']}/withdraw"
    assert call(client, "POST", url, host, headers={"If-Match": second.headers["ETag"]}).status_code == 403
    withdrawn = call(client, "POST", url, asker, headers={"If-Match": second.headers["ETag"]})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
