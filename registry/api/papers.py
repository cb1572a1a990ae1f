"""After a held visit: the host's report and the visiting states' remarks, with their signed document, over the
service the pages call (services/visit_papers.py). Submitting, withdrawing and the review go through
/records/{reference}/... like every record."""

import io

from flask import abort, request, send_file, url_for
from flask_login import current_user

from registry.api import schemas as s
from registry.api.core import endpoint, ok
from registry.api.problems import problem
from registry.api.records import RECORD_ERRORS, WRITE_ERRORS, created_response, envelope, etag, if_match, replay
from registry.db import db
from registry.enums import RecordType, Role
from registry.i18n import _
from registry.records import adapter_for
from registry.records_ui.routes import readable_revisions, shown_revision_number, visible_submission_or_404
from registry.services import submissions as workflow
from registry.services import visit_papers as svc
from registry.services import visits as visit_svc
from registry.services.errors import ValidationFailed
from registry.services.scoping import sees_working_version

KINDS = (RecordType.VISIT_REPORT, RecordType.VISIT_REMARKS)
# A raw body names its type; the service still checks the content itself (sniff), whatever the header says.
RAW_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
MULTIPART = "multipart/form-data"


def _paper_or_404(reference: str):
    submission = visible_submission_or_404(reference)
    if submission.record_type not in KINDS:
        abort(404)
    return submission


def details_out(submission, revision) -> dict | None:
    paper = svc.paper_of(revision) if revision is not None else None
    if paper is None:
        return None
    attachment = paper.attachment
    document = None
    if attachment is not None:
        document = {"filename": attachment.filename, "content_type": attachment.content_type,
                    "size": attachment.size, "sha256": attachment.sha256,
                    "url": url_for("api.paper_document", reference=submission.reference, number=revision.number)}
    return {"visit": paper.visit.submission.reference, "held_from": paper.held_from, "held_to": paper.held_to,
            "text": paper.text, "document": document}


def paper_out(submission) -> s.PaperOut:
    """As the paper's page shows it: the version the caller may read, and its checks for insiders."""
    revision_no = shown_revision_number(submission)
    revision = submission.revision(revision_no)
    findings = []
    if revision is not None and sees_working_version(current_user, submission):
        findings = ((revision.findings or []) if revision.is_frozen
                    else adapter_for(submission.record_type).check(submission, revision))
    return s.PaperOut(**envelope(submission, revision_no), paper=details_out(submission, revision),
                      findings=findings)


def _start(reference: str, body, record_type: RecordType):
    key, answered = replay(record_type, paper_out, "api.get_visit_paper")
    if answered is not None:
        return answered
    visit = visit_svc.visit_of(visible_submission_or_404(reference, RecordType.VISIT))
    on_behalf = current_user.role == Role.SECRETARIAT
    paper = svc.start_paper(current_user, visit, record_type, visibility=body.visibility,
                            language=body.original_language, idempotency_key=key,
                            source_document=body.source_document if on_behalf else None)
    db.session.commit()
    return created_response(paper, paper_out, "api.get_visit_paper")


START_ERRORS = (401, 403, 404, 422)


@endpoint("/visits/<reference>/report", "POST", scope="file", tag="Visit reports and remarks", body=s.PaperCreate,
          response=s.PaperOut, status=201, etag=True, idempotent_create=True, errors=START_ERRORS,
          summary="Open the post-visit report of a held visit (the host state)",
          description="A draft (VRP-...): fill it with PUT /visit-papers/{reference}, attach the signed report "
                      "with PUT /visit-papers/{reference}/document, then submit it through /records.")
def create_visit_report(reference: str, body):
    return _start(reference, body, RecordType.VISIT_REPORT)


@endpoint("/visits/<reference>/remarks", "POST", scope="file", tag="Visit reports and remarks",
          body=s.PaperCreate, response=s.PaperOut, status=201, etag=True, idempotent_create=True,
          errors=START_ERRORS, summary="Open your state's remarks on a held visit (a state that took part)")
def create_visit_remarks(reference: str, body):
    return _start(reference, body, RecordType.VISIT_REMARKS)


@endpoint("/visit-papers/<reference>", "GET", scope="read", tag="Visit reports and remarks", response=s.PaperOut,
          etag=True, errors=RECORD_ERRORS, summary="Read a post-visit report or remarks")
def get_visit_paper(reference: str):
    submission = _paper_or_404(reference)
    return ok(paper_out(submission), headers={"ETag": etag(submission)})


@endpoint("/visit-papers/<reference>", "PUT", scope="file", tag="Visit reports and remarks", body=s.PaperUpdate,
          response=s.PaperOut, etag=True, if_match=True, errors=WRITE_ERRORS,
          summary="Save the draft or returned report or remarks")
def update_visit_paper(reference: str, body):
    submission = _paper_or_404(reference)
    workflow.editable_revision(current_user, submission)
    refused = if_match(submission)
    if refused is not None:
        return refused
    is_report = submission.record_type == RecordType.VISIT_REPORT
    if not is_report and (body.held_from is not None or body.held_to is not None):
        # The remarks have no dates (their form has no such fields): refused rather than silently dropped.
        raise ValidationFailed({name: [_("This field is not accepted here.")]
                                for name in ("held_from", "held_to") if getattr(body, name) is not None})
    svc.update_paper(current_user, submission, text=body.text, held_from=body.held_from, held_to=body.held_to,
                     remove_attachment=body.remove_document, visibility=body.visibility,
                     expected_lock=submission.lock_version)
    db.session.commit()
    return ok(paper_out(submission), headers={"ETag": etag(submission)})


def _upload(reference: str, filename: str | None):
    """(file name, at most one byte past the limit) or (None, the problem to answer)."""
    if request.mimetype == MULTIPART:
        upload = request.files.get("document")
        if upload is None or not upload.filename:
            raise ValidationFailed({"document": [_("Attach the signed document as a PDF, PNG or JPEG file.")]})
        with upload.stream:
            return (upload.filename, upload.stream.read(svc.MAX_ATTACHMENT_BYTES + 1)), None
    if request.mimetype in RAW_TYPES:
        name = filename or f"{reference.upper()}.{RAW_TYPES[request.mimetype]}"
        return (name, request.get_data()[:svc.MAX_ATTACHMENT_BYTES + 1]), None
    return None, problem(415, "unsupported-media-type",
                         _("Send the signed document as a PDF, PNG or JPEG file, or as multipart/form-data."))


@endpoint("/visit-papers/<reference>/document", "PUT", scope="file", tag="Visit reports and remarks",
          query=s.PaperDocumentQuery, response=s.PaperOut, etag=True, if_match=True, errors=WRITE_ERRORS,
          raw_body=(*RAW_TYPES, MULTIPART),
          summary="Attach or replace the signed document of the draft",
          description="The body is the file itself (Content-Type application/pdf, image/png or image/jpeg; its "
                      "name in ?filename=) or multipart/form-data with the file in the part `document`, as on the "
                      "page. At most 10 MB; the type is recognised from the content; the SHA-256 is kept.")
def upload_paper_document(reference: str, query):
    submission = _paper_or_404(reference)
    revision = workflow.editable_revision(current_user, submission)
    refused = if_match(submission)
    if refused is not None:
        return refused
    upload, refused = _upload(reference, query.filename)
    if refused is not None:
        return refused
    paper = svc.paper_of(revision)
    # The text and dates stay as saved: this request changes the document only.
    svc.update_paper(current_user, submission, text=paper.text, held_from=paper.held_from, held_to=paper.held_to,
                     upload=upload, expected_lock=submission.lock_version)
    db.session.commit()
    return ok(paper_out(submission), headers={"ETag": etag(submission)})


@endpoint("/visit-papers/<reference>/document/<int:number>", "GET", scope="read", tag="Visit reports and remarks",
          errors=RECORD_ERRORS, media_type="application/pdf|image/png|image/jpeg",
          summary="Download the signed document of a version",
          description="The document of a version the caller may read (the `url` of `paper.document`), as an "
                      "attachment, with its SHA-256 in X-Checksum-SHA256.")
def paper_document(reference: str, number: int):
    submission = _paper_or_404(reference)
    revision = next((r for r in readable_revisions(submission) if r.number == number), None)
    paper = svc.paper_of(revision) if revision is not None else None
    if paper is None or paper.attachment is None:
        abort(404)
    attachment = paper.attachment
    response = send_file(io.BytesIO(attachment.data), mimetype=attachment.content_type,
                         as_attachment=True, download_name=attachment.filename, max_age=0)
    response.headers["X-Checksum-SHA256"] = attachment.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response
