"""Threshold profiles: their numbers with sources, and which are in force.

Everyone signed in may read the numbers the registry applies and where each comes from; administrators put a
profile in or out of force (services/profiles.py writes the change and its audit entry).
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user

from registry.db import db
from registry.i18n import _, _l
from registry.profiles.forms import InForceForm
from registry.rules.profiles import MARGIN_KEY, ThresholdProfile
from registry.services import profiles as svc
from registry.services.errors import ValidationFailed
from registry.services.permissions import can
from registry.web import login_required, requires

bp = Blueprint("profiles", __name__, url_prefix="/profiles")

MARKS = {
    "v": _l("seen in a primary or official source"),
    "s": _l("secondary source (press, unofficial translation)"),
    "r": _l("recalled from the official text, not re-checked"),
    "d": _l("design proposal, no regime's rule"),
}
APPLIES_TO = {
    "all": _l("Every exercise notification"),
    "border_zone": _l("Exercises within the border zone of its parties"),
}


def _rules(profile: ThresholdProfile) -> list[dict]:
    return [
        {"key": key, "value": profile.values.get(key),
         "unit": profile.units.get(key) or (_("per cent of a threshold") if key == MARGIN_KEY else ""),
         "source": source, "mark": mark}
        for key, (source, mark) in profile.sources.items()
    ]


@bp.route("/")
@login_required
def index():
    """Every threshold profile with its numbers, their sources and marks, and whether it is in force."""
    in_force = svc.in_force_codes()
    profiles = [{"profile": profile, "in_force": code in in_force, "rules": _rules(profile)}
                for code, profile in svc.all_profiles().items()]
    return render_template("profiles/index.html", profiles=profiles, marks=MARKS, applies_to=APPLIES_TO,
                           may_manage=can(current_user, "profiles.manage"), locale=str(get_locale() or "en"))


@bp.route("/<code>/in-force", methods=["POST"])
@requires("profiles.manage")
def set_in_force(code: str):
    """Put a profile in force, or take it out: the rules apply only the profiles in force."""
    profile = svc.all_profiles().get(code)
    if profile is None:
        abort(404)
    form = InForceForm()
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(url_for("profiles.index"))
    wanted = form.in_force.data == "1"
    try:
        svc.set_in_force(current_user, code, wanted)
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(url_for("profiles.index"))
    db.session.commit()
    name = profile.names.get(str(get_locale() or "en"), profile.names["en"])
    if wanted:
        flash(_("%(name)s is now in force.", name=name), "success")
    else:
        flash(_("%(name)s is no longer in force.", name=name), "success")
    return redirect(url_for("profiles.index") + f"#profile-{code}")
