"""Member states and partners: the list, one state's page, and recording a change of status."""


from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from registry.db import db, utcnow
from registry.enums import Role, StateStatus
from registry.i18n import _
from registry.models import MemberState, StatusPeriod, User
from registry.services import states as state_service
from registry.services.errors import ValidationFailed
from registry.services.scoping import visible
from registry.states.forms import ChangeStatusForm
from registry.web import apply_errors, flash_saved, requires

bp = Blueprint("states", __name__, url_prefix="/states")


def _state_or_404(code: str) -> MemberState:
    # Letters only: 'K\x00' would otherwise reach PostgreSQL, which refuses NUL with a 500.
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        abort(404)
    state = db.session.scalar(
        visible(current_user, MemberState)
        .where(MemberState.code == code.upper())
        .options(selectinload(MemberState.status_periods))
    )
    if state is None:
        abort(404)
    return state


def _in_force(state: MemberState, day) -> tuple[StatusPeriod | None, list[StateStatus]]:
    """The period in force on `day` and the statuses held before it.

    A change recorded for a later date is already the open-ended period, but not yet the status.
    """
    period = next((p for p in state.status_periods
                   if p.valid_from <= day and (p.valid_to is None or day < p.valid_to)), None)
    former = []
    for p in state.status_periods:
        if p.valid_to is not None and p.valid_to <= day and p.status not in former:
            if period is None or p.status != period.status:
                former.append(p.status)
    return period, former


@bp.route("/")
@requires("state.view")
def index():
    status_filter = request.args.get("status", "")
    if status_filter and status_filter not in StateStatus._value2member_map_:
        status_filter = ""
    today = utcnow().date()
    stmt = visible(current_user, MemberState).options(selectinload(MemberState.status_periods))
    if status_filter:
        # Filter on the status in force today, in the database, so an export can reuse the query.
        stmt = stmt.where(
            MemberState.status_periods.any(
                (StatusPeriod.status == status_filter)
                & (StatusPeriod.valid_from <= today)
                & ((StatusPeriod.valid_to.is_(None)) | (StatusPeriod.valid_to > today))
            )
        )
    states = db.session.scalars(stmt).all()
    in_force = {s.id: _in_force(s, today) for s in states}
    states.sort(key=lambda s: (getattr(in_force[s.id][0], "status", None) != StateStatus.MEMBER, s.name_en))
    return render_template(
        "states/index.html", states=states, status_filter=status_filter, statuses=StateStatus, today=today,
        in_force=in_force,
    )


@bp.route("/<code>")
@requires("state.view")
def detail(code: str):
    state = _state_or_404(code)
    officers = db.session.scalars(
        visible(current_user, User)
        .where(User.state_id == state.id, User.role == Role.OFFICER)
        .order_by(User.display_name)
    ).all()
    today = utcnow().date()
    period, _former = _in_force(state, today)
    return render_template("states/detail.html", state=state, officers=officers, today=today,
                           status_today=period.status if period else None)


@bp.route("/<code>/status", methods=["GET", "POST"])
@requires("state.change_status")
def change_status(code: str):
    state = _state_or_404(code)
    form = ChangeStatusForm()
    if form.validate_on_submit():
        try:
            state_service.change_status(
                current_user, state, status=form.status.data, valid_from=form.valid_from.data, source=form.source.data
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash_saved(_("The status of %(state)s was recorded.", state=state.name_en))
            return redirect(url_for("states.detail", code=state.code))
    return render_template("states/change_status.html", state=state, form=form)
