"""The OpenAPI document and its reference page: public, they describe the interface and hold no data."""

from flask import Response, json, render_template

from registry.api.core import endpoint
from registry.api.openapi import document

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@endpoint("/openapi.json", "GET", scope=None, tag="Documentation", summary="The OpenAPI 3.1 document")
def openapi_json():
    return Response(json.dumps(document(), ensure_ascii=False), mimetype="application/json")


def _type(schema: dict, schemas: dict) -> str:
    """A short readable type: 'string ≤ 300', 'integer 0..2147483647', 'array of PhaseIn', 'one of: a, b'."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        parts = [_type({**option, **{k: v for k, v in schema.items() if k in ("minimum", "maximum")}}, schemas)
                 for option in schema["anyOf"]]
        return " | ".join(parts)
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}), schemas)}"
    if kind == "null":
        return "null"
    extras = []
    if schema.get("format"):
        extras.append(schema["format"])
    if "maxLength" in schema:
        extras.append(f"≤ {schema['maxLength']} characters")
    if "minimum" in schema or "maximum" in schema:
        extras.append(f"{schema.get('minimum', '')}..{schema.get('maximum', '')}")
    if schema.get("pattern"):
        extras.append(schema["pattern"])
    return kind + (f" ({', '.join(extras)})" if extras else "")


def _fields(name: str, schemas: dict) -> list[dict]:
    schema = schemas.get(name, {})
    required = set(schema.get("required", []))
    return [{"name": field, "type": _type(prop, schemas), "required": field in required,
             "description": prop.get("description", ""),
             "default": json.dumps(prop["default"], ensure_ascii=False) if "default" in prop else ""}
            for field, prop in schema.get("properties", {}).items()]


@endpoint("/", "GET", scope=None, tag="Documentation", summary="The API reference", media_type="text/html")
def reference():
    """The document rendered as a page on the server (no script, nothing fetched from elsewhere)."""
    doc = document()
    schemas = doc["components"]["schemas"]
    groups: dict[str, list[dict]] = {}
    for path, operations in doc["paths"].items():
        for method in METHOD_ORDER:
            op = operations.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            params = [{"name": p["name"], "in": p["in"], "type": _type(p["schema"], schemas),
                       "required": p.get("required", False), "description": p.get("description", "")}
                      for p in op.get("parameters", [])]
            groups.setdefault(op["tags"][0], []).append({
                "id": op["operationId"], "method": method.upper(), "path": path, "summary": op["summary"],
                "description": op.get("description", ""), "scopes": op.get("x-scopes", []), "params": params,
                "body": _type(body, schemas) if body else None, "responses": op["responses"],
            })
    models = {name: _fields(name, schemas) for name in sorted(schemas)}
    return render_template("api/reference.html", doc=doc, groups=groups, models=models)
