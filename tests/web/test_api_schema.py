"""Schemathesis against the served OpenAPI document: requests generated from it, sent with a
real token, get no 5xx, and every response matches what the document declares (status, media
type, headers, body schema). Valid and invalid requests, 20 examples of each per operation.

The operations are looped here rather than through schemathesis' pytest plugin, which does not
run under pytest 9.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .api_helpers import bearer, token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
BOUNDED = settings(max_examples=20, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))


def test_the_api_keeps_to_its_document(app):
    # A market-supervision handler may open cases, so generated POSTs reach the engine.
    headers = bearer(token_for(app, "samr_handler", "schemathesis"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures, tested = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @BOUNDED
            @given(case=operation.as_strategy(mode))
            def exercise(case):
                case.validate_response(case.call(headers=headers), checks=CHECKS)

            try:
                exercise()
            except Exception as exc:  # noqa: BLE001 - gather every operation's failure, then report
                failures.append(f"{operation.label} ({mode}): {exc}")
            tested += 1
    assert tested >= 2 * 17, "the document lost operations"
    assert not failures, "\n\n".join(failures)
