"""Defence-ministry structure disclosures over the structure service: the list page's query, the chart as the
snapshot stores it, a new draft (a copy of the last accepted one), the ministry's names, and the whole chart
replaced from the import template's CSV or XLSX (checked as a whole by services/structure_import.py)."""

from flask import request
from flask_login import current_user

from registry.api import schemas as s
from registry.api.core import endpoint, ok
from registry.api.problems import problem
from registry.api.records import (
    RECORD_ERRORS,
    WRITE_ERRORS,
    created_response,
    envelope,
    etag,
    filing_state,
    if_match,
    replay,
)
from registry.db import db
from registry.enums import RecordType
from registry.i18n import _
from registry.records_ui.routes import shown_revision_number, visible_submission_or_404
from registry.services import structure_import
from registry.services import structures as svc
from registry.services import submissions as workflow
from registry.services.scoping import sees_working_version
from registry.structures.routes import LIST_LIMIT, disclosure_rows

CSV, XLSX = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def structure_out(submission) -> s.StructureOut:
    revision_no = shown_revision_number(submission)
    revision = submission.revision(revision_no)
    snapshot, findings = None, []
    if revision is not None:
        snapshot = (revision.snapshot["structure"] if revision.is_frozen and revision.snapshot
                    else svc.snapshot_details(svc.details_of(revision)))
        if sees_working_version(current_user, submission):
            findings = (revision.findings or []) if revision.is_frozen else svc.check_snapshot(snapshot)
    return s.StructureOut(**envelope(submission, revision_no), structure=snapshot, findings=findings)


@endpoint("/structures", "GET", scope="read", tag="Ministry structures", response=s.StructureList,
          errors=(401, 403), summary="List structure disclosures",
          description="The disclosures the caller may see, newest as-of date first (the list page's query).")
def list_structures():
    rows = disclosure_rows(current_user)
    return ok(s.StructureList(items=[s.StructureSummary(**envelope(submission), as_of=as_of)
                                     for submission, as_of in rows[:LIST_LIMIT]], truncated=len(rows) > LIST_LIMIT))


@endpoint("/structures/<reference>", "GET", scope="read", tag="Ministry structures", response=s.StructureOut,
          etag=True, errors=RECORD_ERRORS, summary="Read a disclosure: the chart and, for insiders, its checks")
def get_structure(reference: str):
    submission = visible_submission_or_404(reference, RecordType.STRUCTURE)
    return ok(structure_out(submission), headers={"ETag": etag(submission)})


@endpoint("/structures", "POST", scope="file", tag="Ministry structures", body=s.StructureCreate,
          response=s.StructureOut, status=201, etag=True, idempotent_create=True, errors=(401, 403, 422),
          summary="Create a draft disclosure")
def create_structure(body):
    key, answered = replay(RecordType.STRUCTURE, structure_out, "api.get_structure")
    if answered is not None:
        return answered
    state, on_behalf = filing_state(body.state)
    submission = svc.create_structure(current_user, state, body.year, visibility=body.visibility,
                                      language=body.original_language, idempotency_key=key,
                                      source_document=body.source_document if on_behalf else None)
    db.session.commit()
    return created_response(submission, structure_out, "api.get_structure")


@endpoint("/structures/<reference>", "PUT", scope="file", tag="Ministry structures", body=s.StructureUpdate,
          response=s.StructureOut, etag=True, if_match=True, errors=WRITE_ERRORS,
          summary="Save the ministry's names of the draft")
def update_structure(reference: str, body):
    submission = visible_submission_or_404(reference, RecordType.STRUCTURE)
    workflow.editable_revision(current_user, submission)
    refused = if_match(submission)
    if refused is not None:
        return refused
    svc.update_disclosure(current_user, submission, ministry_name_ru=body.ministry_name_ru,
                          ministry_name_zh=body.ministry_name_zh, ministry_name_en=body.ministry_name_en,
                          ministry_name_native=body.ministry_name_native, visibility=body.visibility,
                          expected_lock=submission.lock_version)
    db.session.commit()
    return ok(structure_out(submission), headers={"ETag": etag(submission)})


@endpoint("/structures/<reference>/chart", "PUT", scope="file", tag="Ministry structures", response=s.StructureOut,
          etag=True, if_match=True, errors=WRITE_ERRORS, raw_body=(CSV, XLSX),
          summary="Replace the draft's whole chart from the import template",
          description="The body is the template's CSV (text/csv) or XLSX file, as on the import page: every "
                      "problem is reported with its row and column, and nothing is stored unless the whole file "
                      "is valid.")
def replace_chart(reference: str):
    submission = visible_submission_or_404(reference, RecordType.STRUCTURE)
    workflow.editable_revision(current_user, submission)
    refused = if_match(submission)
    if refused is not None:
        return refused
    if request.mimetype not in (CSV, XLSX):
        return problem(415, "unsupported-media-type", _("Send the chart as text/csv or as an XLSX file."))
    content = request.get_data()[:structure_import.MAX_BYTES + 1]
    filename = "chart.csv" if request.mimetype == CSV else "chart.xlsx"
    details = svc.details_of(submission.current_revision)
    parsed = structure_import.parse(content, filename, details.as_of)
    svc.replace_tree(current_user, submission, parsed, expected_lock=submission.lock_version, filename=filename)
    db.session.commit()
    return ok(structure_out(submission), headers={"ETag": etag(submission)})
