"""Threshold profiles in force: which regimes' numbers the registry applies (chosen by an administrator)."""

from flask import current_app
from sqlalchemy import select

from registry.db import db, utcnow
from registry.i18n import _
from registry.models import ProfileInForce
from registry.rules.profiles import ThresholdProfile, load_profiles
from registry.services import audit
from registry.services.errors import ValidationFailed
from registry.services.permissions import require

# In force on a new registry until an administrator decides otherwise.
DEFAULT_IN_FORCE = ("shanghai_1996", "vienna_2011", "sco_agreement")


def all_profiles() -> dict[str, ThresholdProfile]:
    """Every profile of seeds/threshold_profiles.toml, read once per application."""
    cache = current_app.extensions.setdefault("registry.profiles", {})
    if "profiles" not in cache:
        cache["profiles"] = load_profiles(current_app.config.get("THRESHOLD_PROFILES_PATH"))
    return cache["profiles"]


def in_force_codes() -> set[str]:
    rows = {row.code: row.in_force for row in db.session.scalars(select(ProfileInForce))}
    return {code for code in all_profiles() if rows.get(code, code in DEFAULT_IN_FORCE)}


def profiles_in_force() -> list[ThresholdProfile]:
    codes = in_force_codes()
    return [profile for code, profile in all_profiles().items() if code in codes]


def set_in_force(actor, code: str, in_force: bool) -> None:
    require(actor, "profiles.manage")
    if code not in all_profiles():
        raise ValidationFailed({"code": [_("Unknown threshold profile.")]})
    before = code in in_force_codes()
    row = db.session.get(ProfileInForce, code)
    if row is None:
        row = ProfileInForce(code=code)
        db.session.add(row)
    row.in_force, row.changed_at, row.changed_by_id = bool(in_force), utcnow(), actor.id
    audit.record("profiles.set_in_force", actor=actor, object_type="threshold_profile", object_id=code,
                 changes={"in_force": [before, bool(in_force)]})


def profile_value(attribute: str, *, only_in_force: bool = False):
    """The first profile in force that defines `attribute`, e.g. inquiry_days; unless `only_in_force`, any
    profile that defines it (the 1996 agreement's art. 9 answer times hold whatever thresholds apply)."""
    candidates = profiles_in_force() + ([] if only_in_force else list(all_profiles().values()))
    for profile in candidates:
        value = getattr(profile, attribute)
        if value is not None:
            return value
    return None
