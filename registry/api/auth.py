"""Who calls the API: the owner of the bearer token, and nobody else.

No cookie authentication on the API: a browser attaches cookies to any request a foreign page makes, which is
why the pages need CSRF tokens; it never attaches an Authorization header by itself. Accepting only bearer
tokens makes the API immune to CSRF (so it is exempt from the CSRF check) and keeps one credential per
integration, with its own scopes, expiry and revocation. The session cookie is therefore never read here:
`current_user` is set from the token before anything else of the request runs.
"""

from flask import current_app, g, request
from flask_login import current_user

from registry.api.problems import problem
from registry.db import db
from registry.i18n import _
from registry.services import api_tokens, audit
from registry.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from registry.services.submissions import InvalidTransition


def is_api_request() -> bool:
    return request.path == "/api/v1" or request.path.startswith("/api/v1/")


def authenticate_request():
    """`before_request`, registered first: the token's owner becomes `current_user` (or the anonymous user)."""
    if not is_api_request():
        return None
    g._login_user = current_app.login_manager.anonymous_user()  # never the session cookie's user
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None or getattr(view, "access", None) == "public":
        return None
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="registry"'}
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401, "unauthenticated", _("Send a personal API token: Authorization: Bearer <token>."),
                       headers=challenge)
    if api_tokens.locked():
        return problem(429, "too-many-failures", _("Too many invalid tokens from this address; try again later."),
                       headers={"Retry-After": "900"})
    found = api_tokens.authenticate(token.strip())
    if found is None:
        return problem(401, "invalid-token", _("The token is not valid: unknown, expired or revoked."),
                       headers={"WWW-Authenticate": 'Bearer realm="registry", error="invalid_token"'})
    g._login_user, g.api_token = found
    return None


def register_error_handlers(bp) -> None:
    """Service errors as problem documents, for the API's own routes."""

    @bp.errorhandler(PermissionDenied)
    def denied(exc: PermissionDenied):
        db.session.rollback()
        audit.record("access.denied", actor=current_user, object_type="endpoint", object_id=request.endpoint,
                     changes={"action": ["", exc.action]}, outcome="denied")
        db.session.commit()
        return problem(403, "forbidden", _("Your role does not allow this."))

    @bp.errorhandler(ValidationFailed)
    def invalid(exc: ValidationFailed):
        db.session.rollback()
        return problem(422, "invalid-fields", errors=exc.errors)

    @bp.errorhandler(InvalidTransition)
    def transition(exc: InvalidTransition):
        db.session.rollback()
        return problem(409, "invalid-transition", str(exc))

    @bp.errorhandler(Conflict)
    def conflict(exc: Conflict):
        db.session.rollback()  # someone else's change reached the database first: the client's copy is stale
        return problem(412, "stale-version", str(exc))

    @bp.errorhandler(NotFound)
    def not_found(exc):
        db.session.rollback()
        return problem(404, "not-found")


def http_error(code: int):
    """The problem for an HTTP error raised outside a view (no route, wrong method, body too large)."""
    kinds = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 413: "too-large", 500: "server-error"}
    return problem(code, kinds.get(code, "error"))
