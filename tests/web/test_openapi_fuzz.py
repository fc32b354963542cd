"""schemathesis against the OpenAPI schema, in-process (ASGI): every operation, examples
generated from the schema, called as a role the policy allows it to: 0 server errors, and the
responses conform to the schema (status codes, content types, bodies)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from securecomm.web.auth import enforcer

ROLE_USER = {
    "lea": "police.demo", "ice_officer": "officer.demo", "ice_supervisor": "supervisor.demo",
    "crcl": "crcl.demo", "panel": "panel.demo", "admin": "admin.demo",
}  # fmt: skip


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value):
    # the booking endpoint takes JSON Lines too: a generated string is the lines
    return value.encode("utf-8") if isinstance(value, str) else json.dumps(value).encode()


@pytest.fixture(scope="module")
def api_schema(site):
    return schemathesis.openapi.from_asgi("/openapi.json", site.app)


@pytest.fixture(scope="module")
def headers_for(site):
    """operation id -> the Authorization header of a user whose role may call it."""
    from fastapi.testclient import TestClient
    from web_helpers import token

    client = TestClient(site.app, base_url="https://testserver")
    tokens = {role: token(client, name, site.password) for role, name in ROLE_USER.items()}
    tokens["lea_system"] = {"Authorization": f"Bearer {site.demo.api_key}"}
    e = enforcer()

    def pick(operation_id: str) -> dict[str, str]:
        for role in (
            "lea_system",
            "lea",
            "ice_supervisor",
            "ice_officer",
            "crcl",
            "panel",
            "admin",
        ):
            if e.enforce(role, operation_id):
                return tokens[role]
        return {}

    return pick


def test_api_conforms_and_never_fails(api_schema, headers_for):
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]  # fmt: skip
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        _fuzz(operation, headers_for(operation.definition.raw.get("operationId", "")), checks)


def _fuzz(operation, headers, checks) -> None:
    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)  # fmt: skip
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers=headers, checks=checks)

    run()
