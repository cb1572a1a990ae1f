"""The JSON API at /api/v1/: the pages' services, permissions and audit, for ministries' own systems."""

from flask import Flask

# The endpoint modules register their views on bp when imported.
from registry.api import calendars, docs, oversight, papers, records, structures, visit_requests, visits  # noqa: F401
from registry.api.auth import authenticate_request, register_error_handlers
from registry.api.core import bp

# Once, at import: the blueprint object is shared by every app the factory builds (tests build several).
register_error_handlers(bp)


def init_app(app: Flask, csrf) -> None:
    csrf.exempt(bp)  # bearer tokens only: no cookie, so no cross-site request can carry a credential
    app.register_blueprint(bp)
    # First of all before_request functions: nothing may read the session cookie's user on the API.
    app.before_request_funcs.setdefault(None, []).insert(0, authenticate_request)
