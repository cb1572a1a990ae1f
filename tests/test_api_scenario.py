"""The exercise-notification scenario driven wholly through the API, on both backends: an officer files a
draft and submits; the Secretariat returns it; the officer corrects and resubmits; it is accepted; another
member state's officer then reads it (before acceptance it could not), asks about it and gets an answer."""

from sqlalchemy import select

from registry.db import db
from registry.models import AuditEntry, OutboxMessage
from tests.api_helpers import call, make_token, valid_body


def _audit(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        return list(db.session.execute(select(AuditEntry.action, AuditEntry.actor_label).order_by(AuditEntry.seq)))


def test_the_notification_journey_through_the_api(app, client, make_user):
    kz, reviewer, kg = make_user("officer", "KZ"), make_user("secretariat"), make_user("officer", "KG")
    officer, secretariat, other = make_token(app, kz), make_token(app, reviewer), make_token(app, kg)

    # 1. A draft above the observation threshold without observers: saved, but submission is refused.
    body = valid_body(observers_invited=False, observer_places_per_state=None, observer_programme=None,
                      observer_arrival_point=None)
    created = call(client, "POST", "/api/v1/exercises", officer, json=body,
                   headers={"Idempotency-Key": "journey-0001-abcdefgh"})
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    reference, etag = record["reference"], created.headers["ETag"]
    assert record["status"] == "draft" and record["state"] == "KZ"
    assert created.headers["Location"] == f"/api/v1/exercises/{reference}"
    # The same request again (a retry after a lost response) finds the same record, not a second one.
    again = call(client, "POST", "/api/v1/exercises", officer, json=body,
                 headers={"Idempotency-Key": "journey-0001-abcdefgh"})
    assert again.status_code == 200 and again.get_json()["reference"] == reference

    refused = call(client, "POST", f"/api/v1/records/{reference}/submit", officer, headers={"If-Match": etag})
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    fields = {e["field"]: e["detail"] for e in refused.get_json()["errors"]}
    assert "observers_invited" in fields and "Observers must be invited" in fields["observers_invited"]

    # 2. The officer invites observers (with the ETag read last) and submits.
    saved = call(client, "PUT", f"/api/v1/exercises/{reference}", officer, json=_update(valid_body()),
                 headers={"If-Match": etag})
    assert saved.status_code == 200, saved.get_json()
    assert saved.headers["ETag"] != etag
    stale = call(client, "PUT", f"/api/v1/exercises/{reference}", officer, json=_update(valid_body()),
                 headers={"If-Match": etag})
    assert stale.status_code == 412
    etag = saved.headers["ETag"]
    submitted = call(client, "POST", f"/api/v1/records/{reference}/submit", officer, headers={"If-Match": etag})
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted"

    # 3. The Secretariat finds it in the queue and returns it with a comment.
    queue = call(client, "GET", "/api/v1/review/queue", secretariat).get_json()
    assert reference in [item["reference"] for item in queue["items"]]
    no_comment = call(client, "POST", f"/api/v1/records/{reference}/return", secretariat,
                      json={}, headers={"If-Match": submitted.headers["ETag"]})
    assert no_comment.status_code == 422
    assert no_comment.get_json()["errors"][0] == {"pointer": "/comment", "field": "comment",
                                                  "detail": "This field is required."}
    returned = call(client, "POST", f"/api/v1/records/{reference}/return", secretariat,
                    json={"comment": "Give the arrival point in Russian too."},
                    headers={"If-Match": submitted.headers["ETag"]})
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"

    # 4. The officer reads the comment, corrects and resubmits.
    events = call(client, "GET", f"/api/v1/records/{reference}/events", officer).get_json()["items"]
    assert any(e["action"] == "return" and e["comment"] == "Give the arrival point in Russian too."
               for e in events)
    current = call(client, "GET", f"/api/v1/exercises/{reference}", officer)
    corrected = call(client, "PUT", f"/api/v1/exercises/{reference}", officer,
                     json=_update(valid_body(observer_arrival_point="Алматы, аэропорт")),
                     headers={"If-Match": current.headers["ETag"]})
    assert corrected.status_code == 200
    resubmitted = call(client, "POST", f"/api/v1/records/{reference}/submit", officer,
                       headers={"If-Match": corrected.headers["ETag"]})
    assert resubmitted.get_json()["status"] == "submitted"

    # Before acceptance, another state's officer cannot see it at all.
    assert call(client, "GET", f"/api/v1/exercises/{reference}", other).status_code == 404

    # 5. The Secretariat accepts.
    accepted = call(client, "POST", f"/api/v1/records/{reference}/accept", secretariat,
                    headers={"If-Match": resubmitted.headers["ETag"]})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"

    # 6. Another member state's officer finds it in the list, with the accepted version's details.
    listed = call(client, "GET", "/api/v1/exercises?state=KZ&status=accepted", other).get_json()
    assert [item["reference"] for item in listed["items"]] == [reference]
    seen = call(client, "GET", f"/api/v1/exercises/{reference}", other).get_json()
    assert seen["exercise"]["observer_arrival_point"] == "Алматы, аэропорт"
    assert seen["findings"] == [] and seen["source_document"] is None  # the checks are for insiders
    assert seen["actions"] == []

    # 7. The other state asks about it (1996 agreement, art. 9); the notifying state answers.
    asked = call(client, "POST", f"/api/v1/exercises/{reference}/inquiries", other,
                 json={"question": "Which units of the Kyrgyz contingent take part?"})
    assert asked.status_code == 201 and asked.get_json()["asking_state"] == "KG"
    inquiry = asked.get_json()["id"]
    answer = call(client, "POST", f"/api/v1/exercises/{reference}/inquiries/{inquiry}/answer", officer,
                  json={"answer": "A motor rifle company."})
    assert answer.status_code == 200 and answer.get_json()["answered_at"]
    assert call(client, "GET", f"/api/v1/exercises/{reference}/inquiries", other).get_json()["items"][0][
        "answer"] == "A motor rifle company."

    # Every step is in the audit log, under the token owner's name, and the news went out by e-mail.
    actions = _audit(app)
    for expected in (("submission.create", kz.email), ("submission.submit", kz.email),
                     ("submission.return", reviewer.email), ("submission.accept", reviewer.email),
                     ("inquiry.ask", kg.email), ("inquiry.answer", kz.email), ("api_token.create", kg.email)):
        assert expected in actions
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "submission.accept"))


def _update(body: dict) -> dict:
    """The update schema has no creation-only fields (state, nil flag, source document)."""
    return {k: v for k, v in body.items() if k not in ("state", "is_nil", "source_document")}
