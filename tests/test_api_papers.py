"""Post-visit reports and remarks through the API: opened for a held visit by the host and by a state that took
part, saved with If-Match, the signed document sent raw or as multipart (checked by content, 10 MB with the
upload's larger body limit), downloaded with its SHA-256, then submitted and accepted through /records."""

import hashlib
import io

import pytest

from registry.db import db
from registry.models import Attachment
from registry.services import visit_papers
from tests import visit_factories as vf
from tests.api_helpers import call, make_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def held(app, make_user):
    """A KZ visit with China taking part and India declining, recorded as held; tokens of the three officers."""
    host, reviewer = make_user("officer", "KZ"), make_user("secretariat")
    guest, decliner = make_user("officer", "CN"), make_user("officer", "IN")
    with app.app_context():
        offer = vf.published_offer(host.id, reviewer.id)
        vf.answer(guest.id, offer)
        vf.answer(decliner.id, offer, decision="declined", people=0)
        vf.held(host.id, offer)
        reference = offer.reference
    return {"visit": reference, "host": make_token(app, host), "guest": make_token(app, guest),
            "decliner": make_token(app, decliner), "reviewer": make_token(app, reviewer)}


def test_the_host_files_its_report_with_the_signed_document_and_it_is_reviewed(app, client, held):
    url = f"/api/v1/visits/{held['visit']}/report"
    key = {"Idempotency-Key": "report-key-0000001"}
    created = call(client, "POST", url, held["host"], json={}, headers=key)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    reference = body["reference"]
    assert reference.startswith("VRP-") and body["paper"]["visit"] == held["visit"]
    assert {f["field"] for f in body["findings"]} >= {"document", "text"}
    again = call(client, "POST", url, held["host"], json={}, headers=key)
    assert again.status_code == 200 and again.get_json()["reference"] == reference
    second = call(client, "POST", url, held["host"], json={})
    assert second.status_code == 422
    assert second.get_json()["errors"][0]["detail"] == f"{reference} is already filed for this visit: amend it instead."

    paper_url = f"/api/v1/visit-papers/{reference}"
    dates = {"held_from": body["paper"]["held_from"], "held_to": body["paper"]["held_to"]}
    assert call(client, "PUT", paper_url, held["host"], json={"text": "x", **dates}).status_code == 428
    saved = call(client, "PUT", paper_url, held["host"], json={"text": "The visit took place as planned.", **dates},
                 headers={"If-Match": created.headers["ETag"]})
    assert saved.status_code == 200, saved.get_json()
    stale = call(client, "PUT", paper_url, held["host"], json={"text": "Late."},
                 headers={"If-Match": created.headers["ETag"]})
    assert stale.status_code == 412

    document_url = paper_url + "/document"
    refused = call(client, "PUT", document_url + "?filename=report.pdf", held["host"], data=b"MZ\x90\x00 not a pdf",
                   content_type="application/pdf", headers={"If-Match": saved.headers["ETag"]})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == [{"pointer": "/document", "field": "document",
                                             "detail": "Attach the signed document as a PDF, PNG or JPEG file."}]
    assert call(client, "PUT", document_url, held["host"], json={"document": "x"},
                headers={"If-Match": saved.headers["ETag"]}).status_code == 415
    attached = call(client, "PUT", document_url + "?filename=report-signed.pdf", held["host"], data=vf.PDF,
                    content_type="application/pdf", headers={"If-Match": saved.headers["ETag"]})
    assert attached.status_code == 200, attached.get_json()
    document = attached.get_json()["paper"]["document"]
    assert document["filename"] == "report-signed.pdf" and document["content_type"] == "application/pdf"
    assert document["sha256"] == hashlib.sha256(vf.PDF).hexdigest()
    assert attached.get_json()["paper"]["text"] == "The visit took place as planned."  # kept
    assert attached.get_json()["findings"] == []

    submitted = call(client, "POST", f"/api/v1/records/{reference}/submit", held["host"],
                     headers={"If-Match": attached.headers["ETag"]})
    assert submitted.status_code == 200, submitted.get_json()
    accepted = call(client, "POST", f"/api/v1/records/{reference}/accept", held["reviewer"],
                    headers={"If-Match": submitted.headers["ETag"]})
    assert accepted.status_code == 200
    # A member state that took part reads the accepted report and downloads its document.
    read = call(client, "GET", paper_url, held["guest"]).get_json()
    assert read["status"] == "accepted" and read["findings"] == []
    download = call(client, "GET", read["paper"]["document"]["url"], held["guest"])
    assert download.status_code == 200 and download.data == vf.PDF
    assert download.headers["X-Checksum-SHA256"] == hashlib.sha256(vf.PDF).hexdigest()
    assert download.mimetype == "application/pdf" and "attachment" in download.headers["Content-Disposition"]
    assert call(client, "GET", f"{document_url}/9", held["guest"]).status_code == 404


def test_remarks_by_a_state_that_took_part_with_a_multipart_document(app, client, held):
    url = f"/api/v1/visits/{held['visit']}/remarks"
    declined = call(client, "POST", url, held["decliner"], json={})
    assert declined.status_code == 422
    assert declined.get_json()["errors"][0]["detail"] == "Only a state that took part in the visit adds remarks."
    assert call(client, "POST", f"/api/v1/visits/{held['visit']}/report", held["guest"], json={}).get_json()[
        "errors"][0]["detail"] == "Only the host state files the post-visit report."
    created = call(client, "POST", url, held["guest"], json={"original_language": "zh"})
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    assert reference.startswith("VRM-") and created.get_json()["state"] == "CN"
    dated = call(client, "PUT", f"/api/v1/visit-papers/{reference}", held["guest"],
                 json={"text": "Well organised.", "held_from": "2030-01-01"},
                 headers={"If-Match": created.headers["ETag"]})
    assert dated.status_code == 422 and dated.get_json()["errors"][0]["field"] == "held_from"
    # Another state's draft does not exist for the host.
    assert call(client, "PUT", f"/api/v1/visit-papers/{reference}", held["host"], json={"text": "No."},
                headers={"If-Match": created.headers["ETag"]}).status_code == 404
    attached = call(client, "PUT", f"/api/v1/visit-papers/{reference}/document", held["guest"],
                    data={"document": (io.BytesIO(PNG), "remarks.png")}, content_type="multipart/form-data",
                    headers={"If-Match": created.headers["ETag"]})
    assert attached.status_code == 200, attached.get_json()
    assert attached.get_json()["paper"]["document"]["content_type"] == "image/png"
    assert attached.get_json()["findings"] == []  # remarks may be the signed document alone
    removed = call(client, "PUT", f"/api/v1/visit-papers/{reference}", held["guest"],
                   json={"text": "Well organised.", "remove_document": True},
                   headers={"If-Match": attached.headers["ETag"]})
    assert removed.status_code == 200 and removed.get_json()["paper"]["document"] is None


def test_the_document_upload_has_the_pages_larger_body_limit(app, client, held):
    """Above the API's usual 4 MB but within the upload limit: the document's own message, not a bare 413."""
    created = call(client, "POST", f"/api/v1/visits/{held['visit']}/report", held["host"], json={})
    reference = created.get_json()["reference"]
    big = b"%PDF-" + b"0" * visit_papers.MAX_ATTACHMENT_BYTES
    too_large = call(client, "PUT", f"/api/v1/visit-papers/{reference}/document", held["host"], data=big,
                     content_type="application/pdf", headers={"If-Match": created.headers["ETag"]})
    assert too_large.status_code == 422
    assert too_large.get_json()["errors"][0]["detail"] == "The file is too large: at most 10 MB."
    # Other endpoints keep the ordinary limit.
    assert call(client, "PUT", f"/api/v1/visit-papers/{reference}", held["host"], data=big,
                content_type="application/json", headers={"If-Match": created.headers["ETag"]}).status_code == 413
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0
