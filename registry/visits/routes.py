"""Voluntary visits on the web: the list, the offer form, the visit page, answers and the host's decisions.

Every change goes through a service function (services/visits.py and submissions.py); the routes turn the form
into service input, commit once, or roll back and show the form again with each message beside its field.
"""

import secrets
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.db import db, utcnow
from registry.enums import AnswerDecision, RecordType, Role, VisitKind, VisitStatus
from registry.i18n import _, _l
from registry.models import MemberState, Submission, Visit
from registry.records import adapter_for
from registry.records_ui import filing
from registry.records_ui.routes import (
    after_save,
    page_context,
    shown_revision_number,
    timeline,
    version_diff,
    visible_submission_or_404,
)
from registry.records_ui.rows import RowGroup, error_summary, formdata, place_errors, row_action
from registry.services import submissions as workflow
from registry.services import visit_papers
from registry.services import visits as svc
from registry.services.errors import Conflict, ValidationFailed
from registry.services.permissions import can, require
from registry.services.scoping import sees_working_version, visible
from registry.visits import listing
from registry.visits.blueprint import bp
from registry.visits.forms import (
    AnswerForm,
    CancelForm,
    LockForm,
    OfferForm,
    PostponeForm,
    StartPaperForm,
    offer_data,
    to_offer,
    to_participants,
)
from registry.web import apply_errors, login_required

OFFER_ROWS = (
    RowGroup("invitations", "add_invitation", "remove_invitation", _l("Invited states"),
             lambda n, field: _("Invited state %(n)d: %(field)s", n=n, field=field)),
)
ANSWER_ROWS = (
    RowGroup("participants", "add_participant", "remove_participant", _l("Participants"),
             lambda n, field: _("Participant %(n)d: %(field)s", n=n, field=field)),
)


def _visit_or_404(reference: str) -> tuple[Submission, Visit]:
    submission = visible_submission_or_404(reference, RecordType.VISIT)
    return submission, svc.visit_of(submission)


def _detail(submission: Submission):
    return redirect(url_for("visits.detail", reference=submission.reference))


# --- the list ----------------------------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    """Upcoming and past visits this user may see, with filters; hints for the Secretariat and auditors."""
    states = filing.all_states()
    filters, problems = listing.parse_filters(request.args, states)
    rows, truncated = listing.visit_rows(current_user, filters)
    hints = svc.air_base_hints() if can(current_user, "submission.review_queue") else []
    return render_template(
        "visits/index.html", rows=rows, truncated=truncated, limit=listing.LIST_LIMIT, problems=problems,
        filters=filters, states=sorted(states, key=lambda s: s.code), kinds=VisitKind, statuses=VisitStatus,
        locale=filing.reader_locale(), hints=hints, today=utcnow().date(),
        may_file=current_user.role in (Role.OFFICER, Role.SECRETARIAT),
    )


@bp.route("/awaiting")
@login_required
def awaiting():
    """For a liaison officer: the invitations waiting for my state's answer and the requests to answer."""
    if current_user.role != Role.OFFICER or current_user.state_id is None:
        require(current_user, "visit.answer", None)  # refuses (and audits) every other role
        abort(403)
    today = utcnow().date()
    return render_template("visits/awaiting.html", invitations=listing.awaiting_answer(current_user, today),
                           requests=listing.requests_to_answer(current_user), today=today,
                           locale=filing.reader_locale())


@bp.route("/states/<code>")
@login_required
def state_history(code: str):
    """A state's history of hosting and of visiting, as far as this user may see."""
    states = filing.all_states()
    state = next((s for s in states if s.code == (code or "").upper()), None) if len(code or "") == 2 else None
    if state is None:
        abort(404)
    hosted = listing.visit_rows(current_user, {"host": state, "when": "all"})[0]
    visited = listing.visited_by(current_user, state)
    hint = None
    if can(current_user, "submission.review_queue") or current_user.state_id == state.id:
        hint = next((h for h in svc.air_base_hints() if h["state"].id == state.id), None)
    return render_template("visits/state.html", state=state, hosted=hosted, visited=visited, hint=hint,
                           locale=filing.reader_locale())


# --- the offer form ----------------------------------------------------------------------------------------


def _state_choices(states: list[MemberState], exclude_id: int | None = None) -> list[tuple[str, str]]:
    locale = filing.reader_locale()
    return [("", _("— choose a state —"))] + [(str(s.id), s.name(locale)) for s in states if s.id != exclude_id]


def _render_offer_form(form: OfferForm, submission: Submission | None, *, groups=None, conflict=None,
                       status: int = 200):
    groups = groups or {}
    today = utcnow().date()
    members = svc.members_today(today)
    host_id = submission.state_id if submission else current_user.state_id
    for row in form.invitations:
        row.form.state_id.choices = _state_choices(members, host_id)
    if "state_id" in form:
        form.state_id.choices = _state_choices(filing.filing_states(filing.all_states()))
    findings = []
    if submission is not None:
        revision = submission.current_revision
        findings = adapter_for(RecordType.VISIT).check(submission, revision)
    by_field: dict[str, list] = {}
    for finding in findings:
        by_field.setdefault(finding.get("field") or "", []).append(finding)
    return render_template(
        "visits/form.html", form=form, submission=submission, groups=groups, findings=findings, notes=by_field,
        summary=error_summary(form, groups, OFFER_ROWS, _("The offer")), conflict=conflict,
        action_url=url_for("visits.edit", reference=submission.reference) if submission else url_for("visits.new"),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """A new offer: an officer for their own state, the Secretariat on a state's behalf."""
    on_behalf = current_user.role == Role.SECRETARIAT
    candidates = filing.filing_states(filing.all_states())
    filing.check_may_file(on_behalf, candidates)
    if request.method == "GET":
        form = OfferForm(formdata=None, data={"original_language": filing.default_language(),
                                              "idempotency_key": secrets.token_urlsafe(24),
                                              "invite_all_members": True, "places_each": "2"})
    else:
        form = OfferForm(formdata=formdata(request.form, OFFER_ROWS))
    del form.lock_version
    if not on_behalf:
        del form.state_id
        del form.source_document
    if request.method == "GET" or row_action(form, request.form, OFFER_ROWS) or not form.validate():
        return _render_offer_form(form, None)
    if on_behalf:
        ident = filing.as_id(form.state_id.data)
        host = next((s for s in candidates if s.id == ident), None)
        if host is None:
            form.state_id.errors = [_("Choose a member state from the list.")]
            return _render_offer_form(form, None)
    else:
        host = current_user.state
    try:
        submission = svc.create_offer(current_user, host, to_offer(form), visibility=form.visibility.data,
                                      language=form.original_language.data,
                                      source_document=form.source_document.data if on_behalf else None,
                                      idempotency_key=form.idempotency_key.data)
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_offer_form(form, None, groups=place_errors(form, exc.errors, OFFER_ROWS))
    db.session.commit()
    return after_save(submission)


def _drop_creation_fields(form: OfferForm) -> None:
    for name in ("state_id", "source_document", "original_language", "idempotency_key"):
        del form[name]


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@login_required
def edit(reference: str):
    submission, _visit = _visit_or_404(reference)
    if request.method == "GET":
        try:
            revision = workflow.editable_revision(current_user, submission)
        except workflow.InvalidTransition as exc:
            flash(str(exc), "error")
            return _detail(submission)
        form = OfferForm(formdata=None, data=offer_data(submission, svc.details_of(revision)))
        _drop_creation_fields(form)
        groups = {}
        if request.args.get("check") == "1":  # after a refused submission: what blocks it, beside its field
            blocking = [f for f in adapter_for(RecordType.VISIT).check(submission, revision)
                        if f["severity"] == "error"]
            groups = place_errors(form, workflow.findings_by_field(blocking), OFFER_ROWS)
        return _render_offer_form(form, submission, groups=groups)
    require(current_user, "submission.file", submission)
    form = OfferForm(formdata=formdata(request.form, OFFER_ROWS))
    _drop_creation_fields(form)
    if row_action(form, request.form, OFFER_ROWS) or not form.validate():
        return _render_offer_form(form, submission)
    try:
        svc.update_offer(current_user, submission, to_offer(form), visibility=form.visibility.data,
                         expected_lock=form.lock_version.data or "missing")
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_offer_form(form, submission, groups=place_errors(form, exc.errors, OFFER_ROWS))
    except Conflict as exc:
        db.session.rollback()
        return _render_offer_form(form, submission, conflict=str(exc), status=409)
    db.session.commit()
    return after_save(submission)


# --- the visit page ----------------------------------------------------------------------------------------


def _answers_for_reader(visit: Visit) -> dict[int, dict]:
    """Per invited state: its answer, and whether this reader may see the names of its participants (the host,
    the Secretariat, auditors and the answering state itself)."""
    insiders = sees_working_version(current_user, visit.submission)
    return {a.state_id: {"answer": a, "names": insiders or a.state_id == current_user.state_id}
            for a in visit.answers}


def _merged_timeline(submission: Submission, papers: list[Submission]) -> list:
    events = timeline(submission)
    for paper in papers:
        events.extend(timeline(paper))
    return sorted(events, key=lambda e: e.id)


@bp.route("/<reference>")
@login_required
def detail(reference: str):
    submission, visit = _visit_or_404(reference)
    today = utcnow().date()
    shown_no = shown_revision_number(submission)
    revision = submission.revision(shown_no)
    details = svc.details_of(revision) if revision is not None else None
    adapter = adapter_for(RecordType.VISIT)
    findings: list[dict] = []
    if details is not None and sees_working_version(current_user, submission):
        findings = (revision.findings or []) if revision.is_frozen else adapter.check(submission, revision)
    papers = [p for p in visit_papers.papers_of(visit)
              if db.session.scalar(visible(current_user, Submission).where(Submission.id == p.id))]
    context = page_context(submission)
    context["events"] = _merged_timeline(submission, papers)
    invited = (visit.status != VisitStatus.PLANNED and current_user.role == Role.OFFICER
               and current_user.state_id in visit.invited_state_ids)
    sent_hint = None
    if visit.invitations_sent_at and sees_working_version(current_user, submission):
        sent_hint = svc.invitation_lead_hint(visit.start_date, visit.invitations_sent_at.date())
    return render_template(
        "visits/detail.html", **context, shown_no=shown_no, revision=revision, details=details, visit=visit,
        findings=findings, answers=_answers_for_reader(visit), invited=invited, today=today,
        answer_refusal=svc.answer_refusal(visit) if invited else None,
        life_actions=[a for a in svc.LIFECYCLE if svc.can_act(current_user, visit, a)],
        lock_form=LockForm(lock_version=visit.lock_version), sent_hint=sent_hint, papers=papers,
        may_report=visit_papers.may_start(current_user, visit, RecordType.VISIT_REPORT) is None,
        may_remark=visit_papers.may_start(current_user, visit, RecordType.VISIT_REMARKS) is None,
        start_form=StartPaperForm(idempotency_key=secrets.token_urlsafe(24)), locale=filing.reader_locale(),
        diff=version_diff(submission, lambda r: adapter.snapshot(submission, r)),
    )


# --- answers -----------------------------------------------------------------------------------------------


def _render_answer(form: AnswerForm, submission: Submission, visit: Visit, *, groups=None, conflict=None,
                   status: int = 200):
    groups = groups or {}
    invitation = svc.invitation_for(visit, current_user.state_id)
    return render_template(
        "visits/answer.html", form=form, submission=submission, visit=visit, invitation=invitation,
        details=svc.details_of(submission.accepted_revision), groups=groups, conflict=conflict,
        refusal=svc.answer_refusal(visit), locale=filing.reader_locale(),
        summary=error_summary(form, groups, ANSWER_ROWS, _("The answer")),
    ), status


@bp.route("/<reference>/answer", methods=["GET", "POST"])
@login_required
def answer(reference: str):
    """An invited state's officer accepts (naming its participants within its places) or declines."""
    submission, visit = _visit_or_404(reference)
    require(current_user, "visit.answer", visit)
    existing = visit.answer_of(current_user.state_id)
    if request.method == "GET":
        data = {"decision": existing.decision.value if existing else AnswerDecision.ACCEPTED.value,
                "decline_reason": existing.decline_reason if existing else "",
                "participants": ([{"name": p.name, "rank": p.rank, "post": p.post} for p in existing.participants]
                                 if existing else [{}]),
                "lock_version": str(existing.lock_version) if existing else ""}
        return _render_answer(AnswerForm(formdata=None, data=data), submission, visit)
    form = AnswerForm(formdata=formdata(request.form, ANSWER_ROWS))
    if row_action(form, request.form, ANSWER_ROWS) or not form.validate():
        return _render_answer(form, submission, visit)
    participants = to_participants(form)
    if form.decision.data == AnswerDecision.DECLINED.value:
        # The form offers one empty participant row: a browser sends it back blank with a refusal.
        participants = [p for p in participants if (p.name or "").strip() or (p.rank or "").strip()
                        or (p.post or "").strip()]
    try:
        svc.answer(current_user, visit, decision=form.decision.data, participants=participants,
                   decline_reason=form.decline_reason.data, expected_lock=form.lock_version.data)
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_answer(form, submission, visit, groups=place_errors(form, exc.errors, ANSWER_ROWS),
                              status=200)
    except Conflict as exc:
        db.session.rollback()
        return _render_answer(form, submission, visit, conflict=str(exc), status=409)
    db.session.commit()
    flash(_("Your state's answer to %(ref)s is recorded.", ref=submission.reference), "success")
    return _detail(submission)


# --- the host's decisions ----------------------------------------------------------------------------------


def _check_host(visit: Visit, action: str) -> None:
    """The host's officer (or the Secretariat for a visit it entered) and a visit in the right status."""
    require(current_user, "visit.manage", visit)
    if not svc.can_act(current_user, visit, action):
        flash(_("This visit is %(status)s: that cannot be done now.", status=visit.status.label), "error")
        abort(redirect(url_for("visits.detail", reference=visit.submission.reference)))


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


@bp.route("/<reference>/postpone", methods=["GET", "POST"])
@login_required
def postpone(reference: str):
    submission, visit = _visit_or_404(reference)
    _check_host(visit, "postpone")
    if request.method == "GET":
        form = PostponeForm(formdata=None, data={
            "start_date": _iso(visit.start_date), "end_date": _iso(visit.end_date),
            "answer_by": _iso(visit.answer_by), "lock_version": str(visit.lock_version),
            "start_time": visit.start_time.strftime("%H:%M") if visit.start_time else "",
            "end_time": visit.end_time.strftime("%H:%M") if visit.end_time else ""})
        return render_template("visits/postpone.html", form=form, submission=submission, visit=visit)
    form = PostponeForm()
    conflict, status = None, 200
    if form.validate():
        try:
            svc.postpone(current_user, visit, start_date=form.start_date.as_date(),
                         end_date=form.end_date.as_date(), answer_by=form.answer_by.as_date(),
                         start_time=form.start_time.data, end_time=form.end_time.data, reason=form.reason.data,
                         expected_lock=form.lock_version.data or "missing")
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        except Conflict as exc:
            db.session.rollback()
            conflict, status = str(exc), 409
        else:
            db.session.commit()
            flash(_("%(ref)s is postponed; the invited states are told.", ref=submission.reference), "success")
            return _detail(submission)
    return render_template("visits/postpone.html", form=form, submission=submission, visit=visit,
                           conflict=conflict), status


@bp.route("/<reference>/cancel", methods=["GET", "POST"])
@login_required
def cancel(reference: str):
    submission, visit = _visit_or_404(reference)
    _check_host(visit, "cancel_visit")
    form = CancelForm() if request.method == "POST" else CancelForm(formdata=None,
                                                                    data={"lock_version": str(visit.lock_version)})
    conflict, status = None, 200
    if request.method == "POST" and form.validate():
        try:
            svc.cancel(current_user, visit, reason=form.reason.data,
                       expected_lock=form.lock_version.data or "missing")
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        except Conflict as exc:
            db.session.rollback()
            conflict, status = str(exc), 409
        else:
            db.session.commit()
            flash(_("%(ref)s is cancelled; the invited states are told.", ref=submission.reference), "success")
            return _detail(submission)
    return render_template("visits/cancel.html", form=form, submission=submission, visit=visit,
                           conflict=conflict), status


@bp.route("/<reference>/held", methods=["POST"])
@login_required
def held(reference: str):
    submission, visit = _visit_or_404(reference)
    _check_host(visit, "held")
    form = LockForm()
    if not form.validate():
        flash(_("The form expired or was not sent from this site. Please submit it again."), "error")
        return _detail(submission)
    try:
        svc.mark_held(current_user, visit, expected_lock=form.lock_version.data or "missing")
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        messages = exc.errors.values() if isinstance(exc, ValidationFailed) else [[str(exc)]]
        for group in messages:
            for message in group:
                flash(message, "error")
        return _detail(submission)
    db.session.commit()
    flash(_("%(ref)s is recorded as held. The post-visit report can now be filed.", ref=submission.reference),
          "success")
    return _detail(submission)

