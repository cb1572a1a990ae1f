"""After a visit is held: the host's post-visit report and each visiting state's remarks.

Both are records of the shared workflow (record types "visit_report" and "visit_remarks"), reviewed by the
Secretariat like every record. The 1997 regime's practice is a signed report: the signed document is attached
as a PDF or an image, checked by its content (not its name), its size and its name, and stored with its SHA-256.
"""

import hashlib
import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from registry.db import db
from registry.enums import AnswerDecision, RecordType, SubmissionStatus, VisitStatus
from registry.i18n import _
from registry.models import Attachment, Revision, Submission, Visit, VisitPaper
from registry.models.visit import FILENAME_MAX, TEXT_MAX
from registry.records import envelope_snapshot, register
from registry.services import audit
from registry.services import submissions as workflow
from registry.services.errors import ValidationFailed
from registry.services.exercises import _clean_date
from registry.services.permissions import can, require
from registry.services.validation import Errors, clean_text, control_character_message

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# What a signed document may be, recognised by its first bytes (a name or a browser's claim proves nothing).
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
# Names Windows reserves for devices; refused so an archived copy opens everywhere.
RESERVED_NAMES = re.compile(r"(CON|PRN|AUX|NUL|COM\d|LPT\d)(\..*)?", re.IGNORECASE)
GONE = (SubmissionStatus.DELETED, SubmissionStatus.WITHDRAWN, SubmissionStatus.CANCELLED)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the content itself, or None when it is neither PDF, PNG nor JPEG."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def clean_filename(errors: Errors, field: str, name: str | None) -> str:
    """The name as sent, refused (not rewritten) when it carries a path or characters no archive keeps."""
    name = unicodedata.normalize("NFC", name or "")
    if not name.strip():
        errors.add(field, _("The file has no name."))
    elif control_character_message(name):
        errors.add(field, _("Remove the control characters from the file name."))
    elif "/" in name or "\\" in name or name.startswith(".") or ".." in name or ":" in name:
        errors.add(field, _("Send the file under its plain name, without a folder or path."))
    elif RESERVED_NAMES.fullmatch(name.strip()):
        errors.add(field, _("This file name is reserved on some systems: rename the file."))
    elif len(name) > FILENAME_MAX:
        errors.add(field, _("The file name is too long: at most %(n)d characters.", n=FILENAME_MAX))
    return name.strip()


def store_attachment(actor, errors: Errors, field: str, filename: str | None, data: bytes) -> Attachment | None:
    """Check and keep an uploaded document; adds a message to `errors` and returns None when refused."""
    name = clean_filename(errors, field, filename)
    if field in errors.by_field:
        return None
    if not data:
        errors.add(field, _("The file is empty."))
        return None
    if len(data) > MAX_ATTACHMENT_BYTES:
        errors.add(field, _("The file is too large: at most %(n)d MB.", n=MAX_ATTACHMENT_BYTES // (1024 * 1024)))
        return None
    kind = sniff(data)
    if kind is None:
        errors.add(field, _("Attach the signed document as a PDF, PNG or JPEG file."))
        return None
    attachment = Attachment(filename=name, content_type=kind[0], size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by_id=actor.id)
    db.session.add(attachment)
    db.session.flush()
    audit.record("attachment.upload", actor=actor, object_type="attachment", object_id=attachment.id,
                 changes={"filename": [None, name], "sha256": [None, attachment.sha256],
                          "size": [None, attachment.size], "content_type": [None, kind[0]]})
    return attachment


# --- the papers --------------------------------------------------------------------------------------------


def paper_of(revision: Revision) -> VisitPaper | None:
    return db.session.scalar(select(VisitPaper).where(VisitPaper.revision_id == revision.id)
                             .options(selectinload(VisitPaper.attachment)))


def papers_of(visit: Visit) -> list[Submission]:
    """The report and remarks filed about a visit (deleted drafts left out), oldest first."""
    return list(db.session.scalars(
        select(Submission).join(Revision, Revision.submission_id == Submission.id)
        .join(VisitPaper, VisitPaper.revision_id == Revision.id)
        .where(VisitPaper.visit_id == visit.id, Submission.status != SubmissionStatus.DELETED)
        .distinct().order_by(Submission.id)
    ))


def _live_paper(visit: Visit, record_type: RecordType, state_id: int) -> Submission | None:
    return next((s for s in papers_of(visit)
                 if s.record_type == record_type and s.state_id == state_id and s.status not in GONE), None)


def may_start(actor, visit: Visit, record_type: RecordType) -> str | None:
    """Why `actor` cannot open this paper now, or None."""
    if visit.status != VisitStatus.HELD:
        return _("The visit has not been recorded as held yet.")
    if record_type == RecordType.VISIT_REPORT:
        if not can(actor, "submission.file", visit.submission.state):
            return _("Only the host state files the post-visit report.")
        state_id = visit.submission.state_id
    else:
        answer = visit.answer_of(actor.state_id)
        if answer is None or answer.decision != AnswerDecision.ACCEPTED:
            return _("Only a state that took part in the visit adds remarks.")
        state_id = actor.state_id
    existing = _live_paper(visit, record_type, state_id)
    if existing is not None:
        return _("%(ref)s is already filed for this visit: amend it instead.", ref=existing.reference)
    return None


def start_paper(actor, visit: Visit, record_type: RecordType, *, visibility="members", language="ru",
                idempotency_key=None, source_document=None) -> Submission:
    """Open the report (host) or the remarks (a visiting state) as a draft. The Secretariat, opening it on the
    host's behalf, names the state's document it copies (`source_document`), as for every record."""
    existing = workflow.previously_created(actor, idempotency_key)
    if existing is not None:
        return existing
    refusal = may_start(actor, visit, record_type)
    if refusal:
        raise ValidationFailed({"": [refusal]})
    state = visit.submission.state if record_type == RecordType.VISIT_REPORT else actor.state
    require(actor, "submission.file", state)
    submission = workflow.create_submission(actor, record_type, state, visibility=visibility, language=language,
                                            idempotency_key=idempotency_key, source_document=source_document)
    paper = VisitPaper(revision_id=submission.current_revision.id, visit_id=visit.id)
    if record_type == RecordType.VISIT_REPORT:
        paper.held_from, paper.held_to = visit.start_date, visit.end_date
    db.session.add(paper)
    db.session.flush()
    audit.record("visit_paper.save_draft", actor=actor, object_type=record_type.value,
                 object_id=submission.reference, state_code=state.code,
                 changes={"visit": [None, visit.submission.reference]})
    return submission


def update_paper(actor, submission: Submission, *, text, held_from=None, held_to=None, upload=None,
                 remove_attachment=False, visibility=None, expected_lock=None) -> Submission:
    """Save the draft; `upload` is (file name, bytes) of a new signed document, replacing the one attached."""
    revision = workflow.editable_revision(actor, submission, expected_lock)
    paper = paper_of(revision)
    is_report = submission.record_type == RecordType.VISIT_REPORT
    errors = Errors()
    text = clean_text(errors, "text", text, max_length=TEXT_MAX, required=False, multiline=True)
    start = _clean_date(errors, "held_from", held_from) if is_report else None
    end = _clean_date(errors, "held_to", held_to) if is_report else None
    if start and end and end < start:
        errors.add("held_to", _("The end date cannot be before the start date."))
    new_visibility = workflow.clean_visibility(visibility) if visibility is not None else None
    attachment = None
    if upload is not None and not errors.by_field:
        attachment = store_attachment(actor, errors, "document", upload[0], upload[1])
    errors.raise_if_any()
    before = snapshot_paper(paper)
    with workflow.stale_as_conflict():
        paper.text = text
        if is_report:
            paper.held_from, paper.held_to = start, end
        if attachment is not None:
            paper.attachment = attachment
        elif remove_attachment:
            paper.attachment = None
        if new_visibility is not None:
            submission.visibility = new_visibility
        flag_modified(submission, "visibility")
        db.session.flush()
    audit.record("visit_paper.save_draft", actor=actor, object_type=submission.record_type.value,
                 object_id=submission.reference, state_code=submission.state.code,
                 changes=audit.diff(before, snapshot_paper(paper)))
    return submission


def snapshot_paper(paper: VisitPaper) -> dict[str, Any]:
    attachment = paper.attachment
    return {
        "visit": paper.visit.submission.reference,
        "held_from": paper.held_from.isoformat() if paper.held_from else None,
        "held_to": paper.held_to.isoformat() if paper.held_to else None,
        "text": paper.text,
        "document": ({"filename": attachment.filename, "sha256": attachment.sha256, "size": attachment.size,
                      "content_type": attachment.content_type} if attachment else None),
    }


class PaperAdapter:
    def __init__(self, record_type: RecordType):
        self.record_type = record_type

    def copy_details(self, source: Revision, target: Revision) -> None:
        old = paper_of(source)
        db.session.add(VisitPaper(revision_id=target.id, visit_id=old.visit_id, held_from=old.held_from,
                                  held_to=old.held_to, text=old.text, attachment_id=old.attachment_id))

    def snapshot(self, submission: Submission, revision: Revision) -> dict[str, Any]:
        return {"envelope": envelope_snapshot(submission), "paper": snapshot_paper(paper_of(revision))}

    def check(self, submission: Submission, revision: Revision) -> list[dict]:
        paper = paper_of(revision)
        findings = []

        def error(code, field_name, message):
            findings.append({"code": code, "severity": "error", "field": field_name, "profile": None, "params": {},
                             "message": message})

        if self.record_type == RecordType.VISIT_REPORT:
            if paper.attachment is None:
                error("document_missing", "document", _("Attach the signed report (PDF or image)."))
            if paper.held_from is None:
                error("required", "held_from", _("Enter the date the visit started."))
            elif paper.visit.held_on and paper.held_from > paper.visit.held_on:
                error("held_later", "held_from", _("The visit was recorded as held on %(date)s: it cannot have "
                                                   "started later.", date=paper.visit.held_on.isoformat()))
            if paper.held_to is None:
                error("required", "held_to", _("Enter the date the visit ended."))
            if not paper.text:
                error("required", "text", _("Summarise the visit."))
        elif not paper.text and paper.attachment is None:
            error("required", "text", _("Write your remarks, or attach them as a signed document."))
        return findings


register(RecordType.VISIT_REPORT, PaperAdapter(RecordType.VISIT_REPORT))
register(RecordType.VISIT_REMARKS, PaperAdapter(RecordType.VISIT_REMARKS))
