"""The API's blueprint, its route table and the one decorator every endpoint uses.

`@endpoint(...)` registers the Flask route AND records what the OpenAPI generator needs (scope, schemas,
statuses), so the document cannot drift from the code: the request schema named here is the one that
validates the request. Authentication is by `Authorization: Bearer <token>` only (registry/api/auth.py).
"""

from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, g, json, request
from flask_login import current_user
from pydantic import BaseModel, ValidationError

from registry.api.problems import field_errors, problem
from registry.db import db
from registry.i18n import _
from registry.services import audit

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass
class Route:
    endpoint: str
    rule: str
    method: str
    summary: str
    description: str
    scope: str | None  # None: public (the OpenAPI document and its reference page)
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    etag: bool = False  # the response carries an ETag
    if_match: bool = False  # the request must send If-Match
    idempotent_create: bool = False  # accepts Idempotency-Key
    media_type: str = "application/json"
    raw_body: tuple[str, ...] = ()  # media types of a non-JSON body (a file), read by the view itself


ROUTES: list[Route] = []


def endpoint(rule: str, method: str, *, summary: str, scope: str | None, tag: str, description: str = "",
             body=None, query=None, response=None, status: int = 200, errors=(), etag=False, if_match=False,
             idempotent_create=False, media_type="application/json", raw_body=()):
    """Register an API view. The view receives `body=` / `query=` (validated models) when they are declared."""

    def decorator(view):
        name = view.__name__
        spec = Route(name, rule, method, summary, description or (view.__doc__ or "").strip(), scope, tag, body,
                     query, response, status, tuple(errors), etag, if_match, idempotent_create, media_type,
                     tuple(raw_body))
        ROUTES.append(spec)

        @wraps(view)
        def wrapped(**kwargs):
            if scope is not None:
                refused = _check_scope(scope)
                if refused is not None:
                    return refused
            if query is not None:
                try:
                    kwargs["query"] = query.model_validate(_query_args(query))
                except ValidationError as exc:
                    return problem(422, "invalid-query", errors=field_errors(exc))
            if body is not None:
                if request.mimetype and not request.is_json:  # a form or a file is not what the schema reads
                    return problem(415, "unsupported-media-type")
                raw = request.get_data()
                try:
                    kwargs["body"] = body.model_validate_json(raw or b"{}")
                except ValidationError as exc:
                    errors = field_errors(exc)
                    if any(e["type"] == "json_invalid" for e in exc.errors()):
                        return problem(400, "invalid-json", _("The request body is not valid JSON."))
                    return problem(422, "invalid-body", errors=errors)
            return view(**kwargs)

        wrapped.access = "public" if scope is None else f"token:{scope}"
        bp.add_url_rule(rule, name, wrapped, methods=[method])
        return wrapped

    return decorator


def _query_args(model: type[BaseModel]) -> dict:
    """Query-string values: lists for list fields (state=KZ&state=CN), single values otherwise."""
    data = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in request.args:
            continue
        values = request.args.getlist(key)
        data[key] = values if getattr(info.annotation, "__origin__", None) is list else values[-1]
    unknown = [k for k in request.args if k not in data]
    for key in unknown:
        data[key] = request.args.get(key)  # refused by extra="forbid", with the field named
    return data


def _check_scope(scope: str):
    token = g.get("api_token")
    if token is None or not current_user.is_authenticated:
        return problem(401, "unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="registry"'})
    allowed = scope.split("|")
    if not any(s in token.scope_list for s in allowed):
        # Refused like a page action: audited, in its own transaction.
        db.session.rollback()
        audit.record("access.denied", actor=current_user, object_type="endpoint", object_id=request.endpoint,
                     changes={"action": ["", f"scope:{scope}"]}, outcome="denied")
        db.session.commit()
        return problem(403, "insufficient-scope", _("This token does not have the scope %(scope)s.",
                                                    scope=" / ".join(allowed)),
                       headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'})
    return None


def ok(model: BaseModel, status: int = 200, headers: dict | None = None):
    from flask import Response

    response = Response(json.dumps(model.model_dump(mode="json"), ensure_ascii=False), status=status,
                        mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
