"""Schemathesis against the served OpenAPI document, on the backend under test: generated requests to every
operation, as an officer, the Secretariat and an auditor; no answer is a server error, and every answer
(status, content type, headers, body) is one the document declares. Bounded: few examples per operation,
derandomized, so a run takes the same time and finds the same things each time."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_helpers import call, make_token, valid_body

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 10


@pytest.fixture
def tokens(app, make_user, client):
    """Tokens with every scope of their role, and two real records so that some generated paths find one."""
    found = {role: make_token(app, make_user(role=role, state="KZ")) for role in ("officer", "secretariat", "auditor")}
    for _n in range(2):
        assert call(client, "POST", "/api/v1/exercises", found["officer"], json=valid_body()).status_code == 201
    return found


@pytest.mark.parametrize("role", ["officer", "secretariat", "auditor"])
def test_generated_requests_get_declared_answers_and_never_a_server_error(app, tokens, role):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
