"""The SCO confidence-building measures registry: application factory."""

import functools
import logging
import re
import uuid

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, Request, current_app, g, has_request_context, make_response, render_template, request, session
from flask.logging import default_handler
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from registry import page_cache
from registry.config import load_config
from registry.db import db, engine_options, is_busy_error
from registry.i18n import _, babel, select_locale
from registry.services import audit as audit_service
from registry.services.errors import Conflict, NotFound, PermissionDenied
from registry.web import refuse_too_many_fields

__version__ = "0.1.0"

login_manager = LoginManager()
csrf = CSRFProtect()
log = logging.getLogger(__name__)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", instance_relative_config=True)
    app.request_class = RegistryRequest
    app.config.update(load_config(app.instance_path, overrides=test_config))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)

    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    _register_record_types()
    csrf.init_app(app)
    page_cache.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    _init_login(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_request_id(app)
    _register_security_headers(app)
    app.before_request(refuse_too_many_fields)
    _register_second_factor_gate(app)
    _register_template_helpers(app)

    from registry.cli import register_cli

    register_cli(app)

    from registry.outbox_pump import start_outbox_pump

    start_outbox_pump(app)

    from registry.export_worker import start_export_worker

    start_export_worker(app)
    return app


def _register_record_types() -> None:
    """Importing these registers their adapters with the shared workflow (registry/records.py)."""
    import registry.services.calendars  # noqa: F401
    import registry.services.exercises  # noqa: F401
    import registry.services.structures  # noqa: F401
    import registry.services.visit_papers  # noqa: F401
    import registry.services.visits  # noqa: F401


def _init_login(app: Flask) -> None:
    from registry.services.sessions import find_live_session

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    # Our server-side sessions replace Flask-Login's protection, which trusts X-Forwarded-For.
    login_manager.session_protection = None

    @login_manager.user_loader
    def load_user(user_id: str):
        if not user_id.isdigit():
            return None
        found = find_live_session(int(user_id), session.get("sid"))
        if found is None:
            return None
        row, user = found
        if not user.active:
            return None
        g.login_session = row
        return user


def _register_blueprints(app: Flask) -> None:
    from registry.admin.routes import bp as admin_bp
    from registry.audit.routes import bp as audit_bp
    from registry.auth.routes import bp as auth_bp
    from registry.calendars.routes import bp as calendars_bp
    from registry.core.routes import bp as core_bp
    from registry.exercises import bp as exercises_bp
    from registry.exercises import listing, routes  # noqa: F401 - they add their views to exercises_bp
    from registry.exports.routes import bp as exports_bp
    from registry.notifications.routes import bp as notifications_bp
    from registry.profiles.routes import bp as profiles_bp
    from registry.records_ui.routes import bp as records_bp
    from registry.review.routes import bp as review_bp
    from registry.states.routes import bp as states_bp
    from registry.structures.routes import bp as structures_bp
    from registry.tokens.routes import bp as tokens_bp
    from registry.visits import papers, requests  # noqa: F401 - they add their views to visits_bp
    from registry.visits import routes as visit_routes  # noqa: F401
    from registry.visits.blueprint import bp as visits_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(states_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(records_bp)
    app.register_blueprint(exercises_bp)
    app.register_blueprint(calendars_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(profiles_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(structures_bp)
    app.register_blueprint(tokens_bp)

    from registry.api import init_app as init_api

    init_api(app, csrf)


def _register_error_handlers(app: Flask) -> None:
    from registry.api.auth import http_error, is_api_request

    def page(template: str, code: int):
        if is_api_request():  # no route or method under /api/v1/: a problem document, not a page
            return http_error(code)
        return render_template(template), code

    @app.errorhandler(PermissionDenied)
    def permission_denied(exc: PermissionDenied):
        db.session.rollback()
        # Refusals are audited on their own, since the refused change itself never happened.
        audit_service.record("access.denied", actor=current_user, object_type="endpoint",
                     object_id=request.endpoint, changes={"action": ["", exc.action]}, outcome="denied")
        db.session.commit()
        return page("errors/403.html", 403)

    @app.errorhandler(NotFound)
    def not_found_service(exc):
        return page("errors/404.html", 404)

    @app.errorhandler(Conflict)
    def conflict(exc):
        db.session.rollback()
        return render_template("errors/409.html", message=str(exc)), 409

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_template("errors/400.html", message=_("The form expired or was not sent from this site. "
                                                            "Go back, reload the page and try again.")), 400

    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, lambda exc, code=code: page(f"errors/{code}.html", code))

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        """A lock held too long by another connection, or the database gone (restarted, unreachable): the change
        was rolled back; the user is told to try again. The next request gets a fresh connection (pre-ping)."""
        db.session.rollback()
        busy = is_busy_error(exc)
        log.warning("database %s: %s", "busy" if busy else "unavailable", exc.orig if exc.orig else exc)
        message = (_("Someone else is changing this part of the registry right now. Nothing was saved; please try "
                     "again in a moment.") if busy else
                   _("The database is not answering. Nothing was saved; please try again in a moment."))
        response = make_response(render_template("errors/503.html", message=message), 503)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        return page("errors/500.html", 500)


REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{8,64}", re.ASCII)


class RegistryRequest(Request):
    """Requests whose body limit may be larger on the few endpoints that take a document (UPLOAD_ENDPOINTS), and
    only there. The limit must be known before anything reads the body, and the CSRF check reads it first."""

    UPLOAD_ENDPOINTS = frozenset({"visits.paper_edit", "api.upload_paper_document"})

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        limit = super().max_content_length
        if self.url_rule is not None and self.url_rule.endpoint in self.UPLOAD_ENDPOINTS and current_app:
            return max(limit or 0, current_app.config["MAX_UPLOAD_LENGTH"])
        return limit

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


class RequestIdFilter(logging.Filter):
    """Puts the request's X-Request-ID on every log record of the app (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def _register_request_id(app: Flask) -> None:
    """Every response carries an X-Request-ID, and the app's log lines name it.

    The id a trusted reverse proxy sends is kept (so its log and ours match); from anyone else, or when it
    is not a plain token (log injection), a new one is made.
    """
    request_filter = RequestIdFilter()
    app.logger.addFilter(request_filter)
    default_handler.addFilter(request_filter)
    default_handler.setFormatter(
        logging.Formatter("[%(asctime)s] %(levelname)s [%(request_id)s] %(module)s: %(message)s")
    )

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        trusted = app.config["TRUSTED_PROXY_HOPS"] > 0 and REQUEST_ID_RE.fullmatch(incoming)
        g.request_id = incoming if trusted else uuid.uuid4().hex

    @app.after_request
    def send_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        return response


def _register_second_factor_gate(app: Flask) -> None:
    from registry.auth.routes import require_enrolment, require_password_change

    app.before_request(require_enrolment)
    app.before_request(require_password_change)  # after it: the second factor is set up first


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if current_user and current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["PRODUCTION"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from registry.services.permissions import can

    @app.context_processor
    def helpers():
        return {
            "can": lambda action, target=None: can(current_user, action, target),
            "current_locale": str(get_locale() or "en"),
            "app_version": __version__,
        }

    @app.template_filter("ldate")
    def local_date(value) -> str:
        """A date in the reader's language: "27 ноября 2026 г.", "2026年11月27日"; in English the registry's own
        ISO 8601 form (2026-11-27), unambiguous to every reader. The ISO form also stays in <time datetime>."""
        if not value:
            return "—"
        locale = str(get_locale() or "en")
        return value.isoformat() if locale == "en" else _long_date(value, locale)

    @app.template_filter("lnumber")
    def local_number(value) -> str:
        """A whole number with the reader's digit grouping (14 000, 14,000)."""
        return _grouped_number(value, str(get_locale() or "en")) if value is not None else "—"


# Babel formats a value in tens of microseconds and a list page shows a hundred of them; the same dates and
# numbers recur from page to page, and their form in a language never changes.
@functools.lru_cache(maxsize=16384)
def _long_date(value, locale: str) -> str:
    return babel_dates.format_date(value, "long", locale=locale)


@functools.lru_cache(maxsize=16384)
def _grouped_number(value, locale: str) -> str:
    return babel_numbers.format_decimal(value, locale=locale)
