"""The OpenAPI 3.1 document, generated from the route table (registry/api/core.py ROUTES) and the pydantic
models that validate the requests. pydantic's JSON Schema is draft 2020-12, which is OpenAPI 3.1's own schema
dialect, so the models' schemas go into `components/schemas` unchanged."""

import re
from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from registry import __version__
from registry.api import schemas as s
from registry.api.core import ROUTES, Route

REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
DESCRIPTION = (
    "The SCO Confidence-Building Measures Registry for ministries' own systems: the same records, rules, "
    "permissions and audit trail as the web pages. Authenticate with a personal API token created on the "
    "account page (`Authorization: Bearer cbm_...`); each token has scopes (read, file, review, export) within "
    "its owner's role. Errors are RFC 9457 problem documents with field-level `errors`. Updates and workflow "
    "actions need `If-Match` with the record's ETag (428 without it, 412 when stale); creates accept an "
    "`Idempotency-Key`."
)


def openapi_path(rule: str) -> str:
    return _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _path_parameters(rule: str) -> list[dict]:
    params = []
    for converter, name in _PARAM.findall(rule):
        schema = {"type": "integer", "minimum": 1} if converter == "int" else {"type": "string", "maxLength": 40}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _query_parameters(model, defs: dict) -> list[dict]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    defs.update(schema.pop("$defs", {}))
    params = []
    for name, prop in schema["properties"].items():
        param = {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
        if prop.get("description"):
            param["description"] = prop["description"]
        if prop.get("type") == "array":
            param.update(style="form", explode=True)
        params.append(param)
    return params


def _ref(model) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _problem_response(status: int) -> dict:
    return {"description": str(status), "content": {"application/problem+json": {"schema": _ref(s.Problem)}}}


def _raw_schema(media: str) -> dict:
    """A file as the body itself, or (multipart/form-data) in the part `document`, as the page's form sends it."""
    if media == "multipart/form-data":
        return {"type": "object", "required": ["document"],
                "properties": {"document": {"type": "string", "format": "binary"}}}
    return {"type": "string", "format": "binary"}


def _operation(route: Route, defs: dict) -> dict:
    op: dict[str, Any] = {"operationId": route.endpoint, "summary": route.summary, "tags": [route.tag]}
    if route.description:
        op["description"] = route.description
    params = _path_parameters(route.rule)
    if route.query is not None:
        params += _query_parameters(route.query, defs)
    if route.if_match:
        params.append({"name": "If-Match", "in": "header", "required": False,
                       "description": "The ETag of the record as last read (required: 428 without it).",
                       "schema": {"type": "string", "maxLength": 40}})
    if route.idempotent_create:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}})
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": _ref(route.body)}}}
    if route.raw_body:
        op["requestBody"] = {"required": True, "content": {media: {"schema": _raw_schema(media)}
                                                           for media in route.raw_body}}
    success: dict = {"description": route.summary}
    if route.response is not None:
        success["content"] = {"application/json": {"schema": _ref(route.response)}}
    elif route.media_type != "application/json":
        success["content"] = {media: {"schema": {"type": "string", "format": "binary"}}
                              for media in route.media_type.split("|")}
    if route.etag:
        success["headers"] = {"ETag": {"schema": {"type": "string"}}}
    responses = {str(route.status): success}
    if route.idempotent_create:
        responses["200"] = {"description": "The record an earlier request with this Idempotency-Key opened.",
                            "content": success.get("content", {})}
    codes = set(route.errors) | {400, 500}
    if route.body is not None or route.raw_body:
        codes |= {413, 415, 422}
    if route.scope is not None:
        codes |= {401, 403, 429}
    if route.query is not None:
        codes.add(422)
    if route.if_match:
        codes |= {412, 428}
    for code in sorted(codes):
        responses[str(code)] = _problem_response(code)
    op["responses"] = responses
    if route.scope is not None:
        op["security"] = [{"bearer": route.scope.split("|")}]
        op["x-scopes"] = route.scope.split("|")
    else:
        op["security"] = []
    return op


@cache
def document() -> dict:
    models = {m for r in ROUTES for m in (r.body, r.response) if m is not None} | {s.Problem}
    _keys, top = models_json_schema([(m, "validation" if m in {r.body for r in ROUTES} else "serialization")
                                     for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF)
    schemas = dict(top.get("$defs", {}))
    paths: dict = {}
    for route in ROUTES:
        if route.endpoint in ("openapi_json", "reference"):
            continue
        paths.setdefault(openapi_path("/api/v1" + route.rule), {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": "SCO CBM Registry API", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal API token (account page -> API tokens)."}},
        },
    }
