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


def login_required(view):
    """Any signed-in, active user; the view itself scopes what is shown."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    wrapped.access = "login"
    return wrapped


def requires(action: str):
    """Signed in and allowed `action` by the policy (object-level checks stay in the service)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
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
    """Look up by integer id; ids outside the 64-bit range are simply not found."""
    from registry.db import db

    if not isinstance(ident, int) or not 0 < ident < 2**63:
        abort(404)
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def flash_saved(message: str | None = None) -> None:
    flash(message or _("Saved."), "success")
