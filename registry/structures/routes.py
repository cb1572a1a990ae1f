"""Defence-ministry structure disclosures: the list, opening one, editing its chart, importing a file, the chart
itself, the comparison of two accepted disclosures and the Secretariat's side-by-side view.

The chart is edited one unit at a time on plain HTML forms (no script): the edit page lists the tree with a link per
unit, and each unit's page holds its forms (rename, move, remove, posts, holders). Every form posts the record's
lock version; every change is one service function (registry/services/structures.py); the routes commit once.
"""

import secrets
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from registry.db import db, utcnow
from registry.enums import PositionKind, RecordType, Role, StateStatus, UnitKind
from registry.forms import ISO_DATE
from registry.i18n import _
from registry.models import MemberState, Revision, Submission
from registry.records_ui import filing
from registry.records_ui.routes import (
    REFERENCE_PATTERN,
    after_save,
    page_context,
    readable_revisions,
    shown_revision_number,
    visible_submission_or_404,
)
from registry.services import structure_import
from registry.services import structures as svc
from registry.services import submissions as workflow
from registry.services.errors import Conflict, ValidationFailed
from registry.services.permissions import require
from registry.services.scoping import reads_revision, sees_working_version, visible
from registry.services.structure_compare import (
    compare,
    current_holders,
    holder_label,
    marks,
    position_label,
    unit_label,
)
from registry.structures.forms import DisclosureForm, ImportForm, NewStructureForm, TreeEditForm
from registry.web import login_required, requires

bp = Blueprint("structures", __name__, url_prefix="/structures")
LIST_LIMIT = 1000


# --- helpers ---------------------------------------------------------------------------------------------


def _detail_url(submission: Submission) -> str:
    return url_for("structures.detail", reference=submission.reference)


def _edit_url(submission: Submission, **args) -> str:
    return url_for("structures.edit", reference=submission.reference, **args)


def chart_of(snapshot: dict, locale: str) -> dict:
    """The snapshot arranged for the chart template: roots, children by parent key, labels worked out once."""
    units = snapshot["units"]
    keys = {u["key"] for u in units}
    children: dict[str, list[dict]] = {}
    roots = []
    for unit in units:
        unit = dict(unit)
        unit["label"] = unit_label(unit, locale)
        unit["kind_label"] = UnitKind(unit["kind"]).label
        unit["posts"] = [
            {"key": p["key"], "label": position_label(p, locale),
             "holders": [holder_label(h, locale) for h in current_holders(p)]}
            for p in unit["positions"]
        ]
        if unit["parent"] is None or unit["parent"] not in keys:
            roots.append(unit)
        else:
            children.setdefault(unit["parent"], []).append(unit)
    return {"roots": roots, "children": children, "count": len(units), "ministry": snapshot["ministry"],
            "as_of": snapshot["as_of"]}


def _editable(submission: Submission):
    """The draft's details, or a redirect to the record page with the reason when it cannot be edited now."""
    try:
        revision = workflow.editable_revision(current_user, submission)
    except workflow.InvalidTransition as exc:
        flash(str(exc), "error")
        return None, redirect(_detail_url(submission))
    return svc.details_of(revision), None


def _as_date(text):
    text = (text or "").strip()
    if not text:
        return None
    if ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    return text


def _unit_options(chart: dict, exclude: set[str]) -> list[tuple[str, str]]:
    """(key, indented label) of the units, in chart order, for a "place under" select."""
    options: list[tuple[str, str]] = []

    def walk(units, depth):
        for unit in units:
            if unit["key"] not in exclude:
                options.append((unit["key"], "\u2003" * depth + unit["label"]))
            walk(chart["children"].get(unit["key"], []), depth + 1)

    walk(chart["roots"], 0)
    return options


# --- the list and a new disclosure -------------------------------------------------------------------------


def disclosure_rows(user) -> list[tuple[Submission, date]]:
    """(submission, as-of date) of the disclosures `user` may see, in the version they read, newest first; one
    row more than LIST_LIMIT tells that the list was cut (the list page and the API read through this)."""
    stmt = (
        visible(user, Submission)
        .where(Submission.record_type == RecordType.STRUCTURE)
        .join(Revision, (Revision.submission_id == Submission.id) & reads_revision(user))
        .join(svc.StructureDetails, svc.StructureDetails.revision_id == Revision.id)
        .join(MemberState, MemberState.id == Submission.state_id)
        .add_columns(svc.StructureDetails.as_of)
        .options(selectinload(Submission.state))
        .order_by(svc.StructureDetails.as_of.desc(), MemberState.code, Submission.id)
        .limit(LIST_LIMIT + 1)
    )
    return [(row[0], row[1]) for row in db.session.execute(stmt)]


@bp.route("/")
@login_required
def index():
    rows = disclosure_rows(current_user)
    states_with_accepted = sorted({s.state for s, _as_of in rows if s.accepted_revision_no}, key=lambda s: s.code)
    return render_template("structures/index.html", rows=rows[:LIST_LIMIT], truncated=len(rows) > LIST_LIMIT,
                           limit=LIST_LIMIT, compare_states=states_with_accepted,
                           may_file=current_user.role in (Role.OFFICER, Role.SECRETARIAT))


@bp.route("/template")
@login_required
def template():
    """The import template with a small valid example, as CSV (default) or XLSX."""
    if request.args.get("format") == "xlsx":
        return Response(structure_import.template_xlsx(), mimetype=structure_import.XLSX_MIME,
                        headers={"Content-Disposition": "attachment; filename=structure-template.xlsx"})
    return Response(structure_import.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=structure-template.csv"})


def _render_new(form, status=200):
    if "state_id" in form:
        form.state_id.choices = [("", _("— choose a state —"))] + [
            (str(s.id), s.name(filing.reader_locale())) for s in filing.filing_states(filing.all_states())]
    return render_template("structures/new.html", form=form), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """A new disclosure: an officer for their own state, the Secretariat on a state's behalf. It starts as a copy
    of the state's last accepted disclosure."""
    on_behalf = current_user.role == Role.SECRETARIAT
    candidates = filing.filing_states(filing.all_states())
    filing.check_may_file(on_behalf, candidates)
    if request.method == "GET":
        form = NewStructureForm(formdata=None, data={
            "year": str(utcnow().year + 1), "original_language": filing.default_language(),
            "idempotency_key": secrets.token_urlsafe(24)})
    else:
        form = NewStructureForm()
    if not on_behalf:
        del form.state_id
        del form.source_document
    if request.method == "GET" or not form.validate():
        return _render_new(form)
    if on_behalf:
        ident = filing.as_id(form.state_id.data)
        state = next((s for s in candidates if s.id == ident), None)
        if state is None:
            form.state_id.errors = [_("Choose a member state or partner from the list.")]
            return _render_new(form)
    else:
        state = current_user.state
    try:
        submission = svc.create_structure(
            current_user, state, form.year.data, visibility=form.visibility.data,
            language=form.original_language.data, source_document=form.source_document.data if on_behalf else None,
            idempotency_key=form.idempotency_key.data)
    except ValidationFailed as exc:
        db.session.rollback()
        for name, messages in exc.errors.items():
            target = form[name] if name in form else form.year
            target.errors = list(target.errors) + list(messages)
        return _render_new(form)
    db.session.commit()
    details = svc.details_of(submission.current_revision)
    if details.units:
        flash(_("%(ref)s opened as a copy of your last accepted disclosure: change what changed.",
                ref=submission.reference), "success")
    else:
        flash(_("%(ref)s opened. Import the structure from the template, or add the units one by one.",
                ref=submission.reference), "success")
    return redirect(_edit_url(submission))


# --- editing the disclosure --------------------------------------------------------------------------------


def _render_edit(submission, details, form, status=200, conflict=None):
    snapshot = svc.snapshot_details(details)
    chart = chart_of(snapshot, filing.reader_locale())
    return render_template(
        "structures/edit.html", submission=submission, details=details, form=form, chart=chart,
        # The same check the workflow runs on submit (StructureAdapter.check), on the snapshot already taken.
        findings=svc.check_snapshot(snapshot), show_findings=request.args.get("check") == "1", conflict=conflict,
        add_form=TreeEditForm(formdata=None, lock_version=submission.lock_version),
        unit_options=_unit_options(chart, set()), unit_kinds=UnitKind,
    ), status


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@login_required
def edit(reference: str):
    """The ministry's names and visibility, and the tree with a link to each unit's page."""
    submission = visible_submission_or_404(reference, RecordType.STRUCTURE)
    details, refusal = _editable(submission)
    if refusal is not None:
        return refusal
    if request.method == "GET":
        form = DisclosureForm(formdata=None, data={
            "lock_version": str(submission.lock_version), "visibility": submission.visibility.value,
            **{n: getattr(details, n) for n in ("ministry_name_ru", "ministry_name_zh", "ministry_name_en",
                                                 "ministry_name_native")}})
        return _render_edit(submission, details, form)
    form = DisclosureForm()
    if not form.validate():
        return _render_edit(submission, details, form)
    try:
        svc.update_disclosure(
            current_user, submission, ministry_name_ru=form.ministry_name_ru.data,
            ministry_name_zh=form.ministry_name_zh.data, ministry_name_en=form.ministry_name_en.data,
            ministry_name_native=form.ministry_name_native.data, visibility=form.visibility.data,
            expected_lock=form.lock_version.data or "missing")
    except ValidationFailed as exc:
        db.session.rollback()
        for name, messages in exc.errors.items():
            if name in form:
                form[name].errors = list(form[name].errors) + list(messages)
        return _render_edit(submission, details, form)
    except Conflict as exc:
        db.session.rollback()
        return _render_edit(submission, svc.details_of(submission.current_revision), form, 409, str(exc))
    db.session.commit()
    return after_save(submission)


def _unit_input(posted) -> svc.UnitInput:
    return svc.UnitInput(kind=posted.get("kind"), name_ru=posted.get("name_ru"), name_zh=posted.get("name_zh"),
                         name_en=posted.get("name_en"), hq_location=posted.get("hq_location"))


def _position_input(posted) -> svc.PositionInput:
    return svc.PositionInput(kind=posted.get("kind"), title_ru=posted.get("title_ru"),
                             title_zh=posted.get("title_zh"), title_en=posted.get("title_en"))


def _holder_input(posted) -> svc.HolderInput:
    return svc.HolderInput(name_native=posted.get("name_native"), name_ru=posted.get("name_ru"),
                           name_zh=posted.get("name_zh"), name_latin=posted.get("name_latin"),
                           rank=posted.get("rank"), appointed_on=_as_date(posted.get("appointed_on")),
                           left_on=_as_date(posted.get("left_on")))


@bp.route("/<reference>/units", methods=["POST"])
@login_required
def add_unit(reference: str):
    """A new unit, placed under the unit chosen (or at the top of the chart)."""
    submission = visible_submission_or_404(reference, RecordType.STRUCTURE)
    form = TreeEditForm()
    if not form.validate():
        flash(_("The form expired or was not sent from this site. Please submit it again."), "error")
        return redirect(_edit_url(submission))
    try:
        unit = svc.add_unit(current_user, submission, request.form.get("parent_key") or None,
                            _unit_input(request.form), expected_lock=form.lock_version.data or "missing")
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(_edit_url(submission) + "#add-unit")
    db.session.commit()
    flash(_("Unit added: %(name)s.", name=unit.name_en or unit.name_ru or unit.name_zh), "success")
    return redirect(url_for("structures.unit", reference=submission.reference, key=unit.key))


UNIT_OPS = ("save_unit", "move", "remove", "add_child", "add_position", "save_position", "remove_position",
            "add_holder", "save_holder", "remove_holder")


def _apply_op(op: str, submission: Submission, key: str, posted, lock) -> str:
    """Run one edit of the unit page through its service function; returns the message to flash."""
    target = posted.get("target") or ""
    if op == "save_unit":
        svc.update_unit(current_user, submission, key, _unit_input(posted), expected_lock=lock)
        return _("Unit saved.")
    if op == "move":
        svc.move_unit(current_user, submission, key, posted.get("parent_key") or None, expected_lock=lock)
        return _("Unit moved.")
    if op == "remove":
        n = svc.remove_unit(current_user, submission, key, cascade=posted.get("cascade") == "y", expected_lock=lock)
        return _("%(n)d unit(s) removed.", n=n)
    if op == "add_child":
        svc.add_unit(current_user, submission, key, _unit_input(posted), expected_lock=lock)
        return _("Unit added.")
    if op == "add_position":
        svc.add_position(current_user, submission, key, _position_input(posted), expected_lock=lock)
        return _("Post added.")
    if op == "save_position":
        svc.update_position(current_user, submission, target, _position_input(posted),
                            unit_key=posted.get("unit_key") or None, expected_lock=lock)
        return _("Post saved.")
    if op == "remove_position":
        svc.remove_position(current_user, submission, target, expected_lock=lock)
        return _("Post removed.")
    if op == "add_holder":
        svc.add_holder(current_user, submission, target, _holder_input(posted),
                       replaces_current=posted.get("replaces_current") == "y", expected_lock=lock)
        return _("Holder added.")
    if op == "save_holder":
        svc.update_holder(current_user, submission, target, _holder_input(posted), expected_lock=lock)
        return _("Holder saved.")
    svc.remove_holder(current_user, submission, target, expected_lock=lock)
    return _("Holder removed.")


@bp.route("/<reference>/units/<key>", methods=["GET", "POST"])
@login_required
def unit(reference: str, key: str):
    """One unit of the draft: its names, its place in the chart, its posts and their holders."""
    submission = visible_submission_or_404(reference, RecordType.STRUCTURE)
    if request.method == "POST":
        require(current_user, "submission.file", submission)
    details, refusal = _editable(submission)
    if refusal is not None:
        return refusal
    current = next((u for u in details.units if u.key == key), None)
    if current is None:
        abort(404)
    failed = None
    if request.method == "POST":
        form = TreeEditForm()
        op = request.form.get("op", "")
        if op not in UNIT_OPS:
            abort(400)
        if not form.validate():
            flash(_("The form expired or was not sent from this site. Please submit it again."), "error")
            return redirect(url_for("structures.unit", reference=reference, key=key))
        try:
            message = _apply_op(op, submission, key, request.form, form.lock_version.data or "missing")
        except ValidationFailed as exc:
            db.session.rollback()
            failed = {"op": op, "target": request.form.get("target") or "", "errors": exc.errors,
                      "typed": request.form}
        except Conflict as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("structures.unit", reference=reference, key=key))
        else:
            db.session.commit()
            flash(message, "success")
            if op == "remove":
                return redirect(_edit_url(submission))
            return redirect(url_for("structures.unit", reference=reference, key=key))
        details = svc.details_of(submission.current_revision)
        current = next((u for u in details.units if u.key == key), current)
    chart = chart_of(svc.snapshot_details(details), filing.reader_locale())
    below = svc.descendants(details, key)
    parent = next((u for u in details.units if u.key == current.parent_key), None)
    return render_template(
        "structures/unit.html", submission=submission, unit=current, parent=parent, failed=failed,
        token_form=TreeEditForm(formdata=None, lock_version=submission.lock_version),
        move_options=_unit_options(chart, below | {key}), all_units=_unit_options(chart, set()),
        children=[u for u in details.units if u.parent_key == key], below=len(below),
        unit_kinds=UnitKind, position_kinds=PositionKind,
    ), (200 if failed is None else 422)


@bp.route("/<reference>/import", methods=["GET", "POST"])
@login_required
def import_file(reference: str):
    """Replace the draft's chart with a CSV or XLSX file; nothing is stored unless the whole file is valid."""
    submission = visible_submission_or_404(reference, RecordType.STRUCTURE)
    if request.method == "POST":
        require(current_user, "submission.file", submission)
    details, refusal = _editable(submission)
    if refusal is not None:
        return refusal
    problems: list[str] = []
    form = ImportForm() if request.method == "POST" else ImportForm(formdata=None,
                                                                   lock_version=submission.lock_version)
    if request.method == "POST" and form.validate():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems = [_("Choose the file to import.")]
        else:
            content = upload.stream.read(structure_import.MAX_BYTES + 1)
            try:
                parsed = structure_import.parse(content, upload.filename, details.as_of)
                svc.replace_tree(current_user, submission, parsed, expected_lock=form.lock_version.data or "missing",
                                 filename=upload.filename)
            except structure_import.ImportFailed as exc:
                db.session.rollback()
                problems = exc.lines
            except ValidationFailed as exc:
                db.session.rollback()
                problems = [m for messages in exc.errors.values() for m in messages]
            except Conflict as exc:
                db.session.rollback()
                problems = [str(exc)]
            else:
                db.session.commit()
                flash(_("Imported %(units)d units, %(posts)d posts and %(holders)d holders.",
                        units=len(parsed.units), posts=len(parsed.positions), holders=len(parsed.holders)),
                      "success")
                return redirect(_edit_url(submission))
        form.lock_version.data = str(submission.lock_version)
    return render_template("structures/import.html", submission=submission, details=details, form=form,
                           problems=problems, columns=structure_import.COLUMNS), (422 if problems else 200)


# --- reading: the chart, the comparison, the overview ------------------------------------------------------


def _snapshot_of(submission: Submission, revision: Revision) -> dict:
    if revision.is_frozen and revision.snapshot:
        return revision.snapshot["structure"]
    return svc.snapshot_details(svc.details_of(revision))


@bp.route("/<reference>")
@login_required
def detail(reference: str):
    submission = visible_submission_or_404(reference, RecordType.STRUCTURE)
    shown_no = shown_revision_number(submission)
    revision = submission.revision(shown_no)
    locale = filing.reader_locale()
    snapshot = _snapshot_of(submission, revision) if revision is not None else None
    findings: list[dict] = []
    if snapshot is not None and sees_working_version(current_user, submission):
        findings = (revision.findings or []) if revision.is_frozen else svc.check_snapshot(snapshot)
    version_changes = None
    numbers = {r.number: r for r in readable_revisions(submission)}
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if a is not None and b is not None:
        if a not in numbers or b not in numbers:
            abort(404)
        version_changes = {"a": a, "b": b, "changes": compare(_snapshot_of(submission, numbers[a]),
                                                              _snapshot_of(submission, numbers[b]), locale)}
    return render_template(
        "structures/detail.html", **page_context(submission), shown_no=shown_no, revision=revision,
        chart=chart_of(snapshot, locale) if snapshot else None, marks={}, findings=findings, diff=None,
        version_changes=version_changes,
    )


def _state_or_404(code: str) -> MemberState:
    if len(code or "") != 2 or not code.isascii() or not code.isalpha():
        abort(404)
    state = db.session.scalar(visible(current_user, MemberState).where(MemberState.code == code.upper()))
    if state is None:
        abort(404)
    return state


@bp.route("/compare/<code>")
@login_required
def compare_page(code: str):
    """Any two accepted disclosures of a state: the changes as a list, and highlighted on the newer chart."""
    state = _state_or_404(code)
    locale = filing.reader_locale()
    choices = svc.accepted_disclosures(visible(current_user, Submission).where(Submission.state_id == state.id))
    by_ref = {s.reference: (s, r, as_of) for s, r, as_of in choices}
    problems = []
    old = new = None
    a, b = (request.args.get("a") or "").strip().upper(), (request.args.get("b") or "").strip().upper()
    if a or b:
        if not (REFERENCE_PATTERN.fullmatch(a) and REFERENCE_PATTERN.fullmatch(b)) or a not in by_ref \
                or b not in by_ref:
            problems.append(_("Choose two accepted disclosures from the lists."))
        else:
            old, new = by_ref[a], by_ref[b]
    elif len(choices) >= 2:
        new, old = choices[0], choices[1]
    result = None
    if old is not None and new is not None:
        old_snap, new_snap = _snapshot_of(old[0], old[1]), _snapshot_of(new[0], new[1])
        changes = compare(old_snap, new_snap, locale)
        result = {"old": old, "new": new, "changes": changes, "chart": chart_of(new_snap, locale),
                  "marks": {k: " ".join(sorted(v)) for k, v in marks(changes).items()}}
    return render_template("structures/compare.html", state=state, choices=choices, result=result,
                           problems=problems, a=old[0].reference if old else "", b=new[0].reference if new else "")


@bp.route("/overview")
@requires("structure.overview")
def overview():
    """For the Secretariat: the current (latest accepted) structure of each member state, side by side."""
    locale = filing.reader_locale()
    today = utcnow().date()
    states = sorted((s for s in filing.all_states() if s.status_on(today) == StateStatus.MEMBER),
                    key=lambda s: s.name(locale))
    latest: dict[int, tuple] = {}
    for submission, revision, as_of in svc.accepted_disclosures(visible(current_user, Submission)):
        latest.setdefault(submission.state_id, (submission, revision, as_of))
    columns = []
    for state in states:
        found = latest.get(state.id)
        chart = chart_of(_snapshot_of(found[0], found[1]), locale) if found else None
        columns.append({"state": state, "submission": found[0] if found else None, "chart": chart})
    return render_template("structures/overview.html", columns=columns)
