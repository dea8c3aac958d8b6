"""Schemathesis against the served OpenAPI document: requests generated from it, sent with a
real token, get no 5xx, no request the document calls valid is refused, and every response
matches what the document declares (status, media type, headers, body schema). Valid and
invalid requests, 20 examples of each per operation.

A valid request may still break a rule JSON Schema cannot state (two fields that must differ, a
hash that must match the file, a user who must exist): the document names each such rule on its
field as `x-rule`, and a 422 that names only fields with one is the rule at work, not a refusal
of valid data.

The operations are looped here rather than through schemathesis' pytest plugin, which does not
run under pytest 9.
"""
from __future__ import annotations

import re

import jsonschema_rs
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .api_helpers import bearer, token_for


def ruled_fields(document: dict) -> dict[tuple[str, str], set[str]]:
    """(method, path) -> the fields and parameters the document gives an `x-rule`."""
    components = document["components"]["schemas"]

    def rules_of(schema: dict) -> set[str]:
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[1]]
        return {name for name, prop in schema.get("properties", {}).items() if "x-rule" in prop}

    found: dict[tuple[str, str], set[str]] = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method == "parameters":  # the path's own, shared by its operations: ids
                continue
            names = {p["name"] for p in operation.get("parameters", []) if "x-rule" in p.get("schema", {})}
            for media in operation.get("requestBody", {}).get("content", {}).values():
                names |= rules_of(media["schema"])
            found[(method.upper(), path)] = names
    return found


def valid_data_accepted(rules):
    """positive_data_acceptance, except for a 422 naming only fields with a stated rule."""

    def check(ctx, response, case):
        if response.status_code == 422:
            named = {re.split(r"[.\[]", field)[0] for field in (response.json().get("errors") or {})}
            if named and named <= rules.get((case.operation.method.upper(), case.operation.path), set()):
                return None
        return positive_data_acceptance(ctx, response, case)

    check.__name__ = "positive_data_acceptance"
    return check


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
BOUNDED = settings(max_examples=20, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))


def test_the_api_keeps_to_its_document(app):
    # A market-supervision handler may open cases, so generated POSTs reach the engine.
    headers = bearer(token_for(app, "samr_handler", "schemathesis"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    checks = [valid_data_accepted(ruled_fields(document)), *CHECKS]
    failures, tested = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @BOUNDED
            @given(case=operation.as_strategy(mode))
            def exercise(case):
                case.validate_response(case.call(headers=headers), checks=checks)

            try:
                exercise()
            # schemathesis' FailureGroup is a BaseExceptionGroup, not an Exception.
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - gather every failure, then report
                failures.append(f"{operation.label} ({mode}): {exc}")
            tested += 1
    assert tested >= 2 * 17, "the document lost operations"
    assert not failures, "\n\n".join(failures)


def patterns(value):
    if isinstance(value, dict):
        if isinstance(value.get("pattern"), str):
            yield value["pattern"]
        for item in value.values():
            yield from patterns(item)
    elif isinstance(value, list):
        for item in value:
            yield from patterns(item)


def test_every_pattern_of_the_document_is_one_a_client_can_use(app):
    """A pattern the Rust regex behind schemathesis cannot compile (a surrogate range, say) is
    dropped whole, and with it the rule it states (NUL refused): each one compiles there, in
    Python and as a JSON Schema pattern."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    found = set(patterns(document))
    assert "^[^\\u0000]*$" in found
    for pattern in found:
        re.compile(pattern)
        jsonschema_rs.validator_for({"pattern": pattern})
