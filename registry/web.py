"""Helpers shared by the blueprints: access guards, safe redirects, presenting service errors."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from registry.i18n import _
from registry.services.errors import ValidationFailed
from registry.services.permissions import require


def public(view):
    """Mark a view as reachable without signing in (checked by the url_map test)."""
    view.access = "public"
    return view


def _to_login():
    """To the sign-in page, and back afterwards only to an address that answers a GET.

    A form post to a POST-only route (sign out, deactivate) cannot be replayed by the redirect
    after sign-in, which would only show "not allowed here" (405).
    """
    rule = request.url_rule
    back = request.full_path.rstrip("?") if rule is not None and "GET" in (rule.methods or ()) else None
    return redirect(url_for("auth.login", next=back))


def login_required(view):
    """Any signed-in, active user; the view itself scopes what is shown."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _to_login()
        return view(*args, **kwargs)

    wrapped.access = "login"
    return wrapped


def requires(action: str):
    """Signed in and allowed `action` by the policy (object-level checks stay in the service)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return _to_login()
            require(current_user, action)
            return view(*args, **kwargs)

        wrapped.access = action
        return wrapped

    return decorator


def is_safe_next(target: str | None) -> bool:
    """Only a path on this host: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def redirect_next(default_endpoint: str):
    target = request.args.get("next") or request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for(default_endpoint))


def apply_errors(form, exc: ValidationFailed) -> None:
    """Show service validation errors beside the form fields they concern."""
    for field_name, messages in exc.errors.items():
        field = getattr(form, field_name, None) if field_name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            for message in messages:
                flash(message, "error")


def get_or_404(model, ident):
    """Look up by integer id; ids outside the range of the key column are simply not found.

    PostgreSQL refuses 2**31 for an INTEGER key ("integer out of range", a 500) and SQLite 2**63.
    """
    from sqlalchemy import BigInteger

    from registry.db import db

    key_type = model.__mapper__.primary_key[0].type
    limit = 2**63 if isinstance(key_type, BigInteger) else 2**31
    if not isinstance(ident, int) or not 0 < ident < limit:
        abort(404)
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def refuse_too_many_fields():
    """413 for a form with more fields than MAX_FORM_PARTS, for blueprints' `before_request`.

    Werkzeug applies MAX_FORM_PARTS to multipart bodies only; a url-encoded one of 1,500 fields passed.
    """
    if request.mimetype == "application/x-www-form-urlencoded":
        fields = sum(len(values) for values in request.form.listvalues())
        if fields > request.max_form_parts:
            abort(413)


def flash_saved(message: str | None = None) -> None:
    flash(message or _("Saved."), "success")
