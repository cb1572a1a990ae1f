"""Requests for a visit: a state asks another for a visit to a named facility; the host accepts or declines."""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.db import db, utcnow
from registry.enums import Role, VisitKind
from registry.i18n import _
from registry.models import VisitRequest
from registry.records_ui import filing
from registry.services import visit_requests as svc
from registry.services import visits
from registry.services.errors import Conflict, ValidationFailed
from registry.services.permissions import can, require
from registry.services.scoping import visible
from registry.visits.blueprint import bp
from registry.visits.forms import DecideRequestForm, LockForm, RequestForm
from registry.web import apply_errors, login_required

REFERENCE = r"VRQ-\d{4}-\d{4,8}"


def request_or_404(reference: str) -> VisitRequest:
    """The visit request of this reference if the user may see it (the pages and the API), else 404."""
    if not re.fullmatch(REFERENCE, (reference or "").upper(), re.ASCII):
        abort(404)
    found = db.session.scalar(visible(current_user, VisitRequest).where(VisitRequest.reference == reference.upper()))
    if found is None:
        abort(404)
    return found


@bp.route("/requests/")
@login_required
def requests():
    rows = list(db.session.scalars(visible(current_user, VisitRequest).order_by(VisitRequest.id.desc()).limit(500)))
    return render_template("visits/requests.html", rows=rows, locale=filing.reader_locale(),
                           may_ask=current_user.role == Role.OFFICER and current_user.state_id is not None)


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    require(current_user, "visit.request", None)
    if current_user.state_id is None:
        abort(403)
    form = RequestForm()
    members = visits.members_today(utcnow().date())
    locale = filing.reader_locale()
    form.host_state_id.choices = [("", _("— choose a state —"))] + [
        (str(s.id), s.name(locale)) for s in members if s.id != current_user.state_id]
    if request.method == "POST" and form.validate():
        ident = filing.as_id(form.host_state_id.data)
        host = next((s for s in members if s.id == ident), None)
        try:
            created = svc.create_request(current_user, host, facility=form.facility.data, kind=form.kind.data or None,
                                         preferred_from=form.preferred_from.as_date(),
                                         preferred_to=form.preferred_to.as_date(), purpose=form.purpose.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("%(ref)s was sent to the host state.", ref=created.reference), "success")
            return redirect(url_for("visits.request_detail", reference=created.reference))
    return render_template("visits/request_form.html", form=form, kinds=VisitKind)


@bp.route("/requests/<reference>")
@login_required
def request_detail(reference: str):
    found = request_or_404(reference)
    return render_template(
        "visits/request_detail.html", item=found, locale=filing.reader_locale(),
        may_decide=found.status.value == "open" and can(current_user, "visit.decide_request", found),
        may_withdraw=found.status.value == "open" and can(current_user, "visit.withdraw_request", found),
        decide_form=DecideRequestForm(formdata=None, data={"decision": "accept", "places": "2",
                                                           "lock_version": str(found.lock_version)}),
        lock_form=LockForm(lock_version=found.lock_version),
    )


@bp.route("/requests/<reference>/decide", methods=["POST"])
@login_required
def decide_request(reference: str):
    found = request_or_404(reference)
    require(current_user, "visit.decide_request", found)
    form = DecideRequestForm()
    if form.validate():
        try:
            if form.decision.data == "accept":
                offer = svc.accept_request(current_user, found, places=form.places.data,
                                           expected_lock=form.lock_version.data or "missing")
            elif form.decision.data == "decline":
                svc.decline_request(current_user, found, reason=form.reason.data,
                                    expected_lock=form.lock_version.data or "missing")
                offer = None
            else:
                raise ValidationFailed({"decision": [_("Choose accept or decline.")]})
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        except Conflict as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("visits.request_detail", reference=found.reference))
        else:
            db.session.commit()
            if offer is not None:
                flash(_("A draft offer %(ref)s was opened: complete it and submit it for review.",
                        ref=offer.reference), "success")
                return redirect(url_for("visits.edit", reference=offer.reference))
            flash(_("%(ref)s was declined.", ref=found.reference), "success")
            return redirect(url_for("visits.request_detail", reference=found.reference))
    return render_template("visits/request_detail.html", item=found, locale=filing.reader_locale(),
                           may_decide=True, may_withdraw=False, decide_form=form,
                           lock_form=LockForm(lock_version=found.lock_version))


@bp.route("/requests/<reference>/withdraw", methods=["POST"])
@login_required
def withdraw_request(reference: str):
    found = request_or_404(reference)
    require(current_user, "visit.withdraw_request", found)
    form = LockForm()
    if form.validate():
        try:
            svc.withdraw_request(current_user, found, expected_lock=form.lock_version.data or "missing")
        except Conflict as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("%(ref)s was withdrawn.", ref=found.reference), "success")
    return redirect(url_for("visits.request_detail", reference=found.reference))
