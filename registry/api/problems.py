"""Errors of the API as application/problem+json (RFC 9457), with field-level details.

Field messages are the forms' own: the services' ValidationFailed messages unchanged, and for what the request
schema refuses before the service sees it (a wrong JSON type, an unknown field) the same catalog messages the
forms show for such input. Field names of the services ("participants-0-state_id") become JSON pointers into
the request body ("/participants/0/state_id").
"""

from flask import Response, json, request
from pydantic import ValidationError

from registry.i18n import _, _l

PROBLEM_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"


def _titles() -> dict[int, str]:
    return {
        400: _("The request is not valid."),
        401: _("Authentication is required."),
        403: _("Not allowed."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("The record is not in a state that allows this."),
        412: _("The record changed since you read it."),
        413: _("The request is too large."),
        415: _("Send the request body as application/json."),
        422: _("Some fields are not valid."),
        428: _("Send If-Match with the record's ETag."),
        429: _("Too many failed attempts; try again later."),
        500: _("The registry could not complete the request."),
    }


def problem(status: int, kind: str, detail: str | None = None, *, errors: dict[str, list[str]] | None = None,
            headers: dict | None = None) -> Response:
    body = {"type": TYPE_BASE + kind, "title": _titles().get(status, _("Error.")), "status": status}
    if detail:
        body["detail"] = str(detail)
    body["instance"] = request.path
    if errors:
        body["errors"] = [{"pointer": pointer(field), "field": field, "detail": str(message)}
                          for field, messages in errors.items() for message in messages]
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def pointer(field: str) -> str:
    """'participants-0-state_id' -> '/participants/0/state_id'; '' (the whole record) -> ''."""
    if not field:
        return ""
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in field.split("-"))


# pydantic's error types -> the message the forms show for the same mistake (the same catalog entries).
_TYPE_MESSAGES = {
    "missing": _l("This field is required."),
    "int_type": _l("Enter a whole number."),
    "int_parsing": _l("Enter a whole number."),
    "int_from_float": _l("Enter a whole number."),
    "float_type": _l("Enter a number in decimal degrees."),
    "float_parsing": _l("Enter a number in decimal degrees."),
    "date_type": _l("Enter a date as YYYY-MM-DD."),
    "date_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": _l("Enter a date as YYYY-MM-DD."),
    "literal_error": _l("Choose a value from the list."),
    "enum": _l("Choose a value from the list."),
    "bool_type": _l("Enter true or false."),
    "bool_parsing": _l("Enter true or false."),
    "string_type": _l("Enter text."),
    "extra_forbidden": _l("This field is not accepted here."),
    "list_type": _l("Send a list."),
    "model_type": _l("Send a JSON object."),
    "dict_type": _l("Send a JSON object."),
    "model_attributes_type": _l("Send a JSON object."),
}


def _message(error: dict) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "string_too_long":
        return _("At most %(n)d characters.", n=context.get("max_length", 0))
    if kind == "too_long":
        return _("At most %(n)d entries.", n=context.get("max_length", 0))
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = context.get("ge", context.get("gt")), context.get("le", context.get("lt"))
        if low is not None and high is not None:
            return _("Enter a number from %(lo)d to %(hi)d.", lo=low, hi=high)
        return _("Enter a number of 0 or more.") if low == 0 else _("This value is not valid.")
    return str(_TYPE_MESSAGES.get(kind, _l("This value is not valid.")))


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors by field name in the services' style ("participants-0-state_id")."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        location = [str(part) for part in error["loc"]]
        errors.setdefault("-".join(location), []).append(_message(error))
    return errors
