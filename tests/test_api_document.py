"""The OpenAPI document and its reference page: generated from the route table and the request models, the
page rendered on the server with nothing fetched from elsewhere."""

import re

from registry.api.core import ROUTES
from registry.api.openapi import openapi_path


def test_the_reference_page_lists_every_operation_and_loads_nothing_from_elsewhere(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for route in ROUTES:
        if route.scope is None:
            continue
        assert f"{route.method} {openapi_path('/api/v1' + route.rule)}" in page, route.endpoint
    assert "ExerciseCreate" in page and "Idempotency-Key" in page and "If-Match" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no CDN, no script bundle from the internet
    assert "<script" not in page


def test_every_documented_request_schema_is_the_validating_model(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for route in ROUTES:
        if route.body is None:
            continue
        operation = document["paths"][openapi_path("/api/v1" + route.rule)][route.method.lower()]
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        name = reference.rsplit("/", 1)[-1]
        assert name == route.body.__name__
        assert schemas[name]["properties"].keys() == route.body.model_json_schema()["properties"].keys()


def test_operations_declare_their_scope_and_errors(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "A personal API token (account page -> API tokens)."}
    update = document["paths"]["/api/v1/exercises/{reference}"]["put"]
    assert update["security"] == [{"bearer": ["file"]}]
    assert {"401", "403", "412", "422", "428"} <= set(update["responses"])
    assert update["responses"]["412"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    listing = document["paths"]["/api/v1/exercises"]["get"]
    state = next(p for p in listing["parameters"] if p["name"] == "state")
    assert state["schema"]["type"] == "array" and state["explode"] is True


def test_the_document_is_openapi_3_1_and_describes_every_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    api = {rule.endpoint.removeprefix("api.") for rule in app.url_map.iter_rules()
           if rule.endpoint.startswith("api.")} - {"openapi_json", "reference"}
    assert operations == api
    # The request schema is the model that validates: unknown fields are refused by both.
    create = document["components"]["schemas"]["ExerciseCreate"]
    assert create["additionalProperties"] is False and "status" not in create["properties"]
