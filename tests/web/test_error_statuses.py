"""Engine errors carry no HTTP status: web/errors.py gives each class one, for pages and API."""
from __future__ import annotations

import pytest

import engine
from web import errors


@pytest.mark.parametrize("error, status", [
    (engine.NotFound("x"), 404), (engine.Forbidden("x"), 403), (engine.Conflict("x"), 409),
    (engine.StaleState("x"), 409), (engine.InvalidInput("x"), 422), (engine.TooLarge("x"), 413),
    (engine.EvidenceCorrupted("x"), 409), (engine.WorkflowError("x"), 500),
    (engine.DeployError("f.bpmn", "broken"), 400), (engine.EngineError("x"), 400),
])
def test_each_engine_error_has_one_status(error, status):
    assert errors.status_of(error) == status
    assert not hasattr(error, "status")


def test_the_same_error_gets_the_same_status_on_a_page_and_in_the_api(app, client):
    def refuse():
        raise engine.StaleState("someone else was first")

    app.add_url_rule("/refused", "refused", refuse)
    app.add_url_rule("/api/v1/refused", "api_refused", refuse)
    page = client.get("/refused")
    assert page.status_code == 409 and page.mimetype == "text/html"
    problem = client.get("/api/v1/refused")
    assert problem.status_code == 409 and problem.get_json()["type"] == "urn:liandong:problem:conflict"
    assert problem.get_json()["detail"] == "someone else was first"
