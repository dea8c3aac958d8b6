"""Input never crashes: non-finite and overlong numbers, numbers past a form's declared maximum,
deep nesting, NUL and lone surrogates get 422 naming the field (API and pages alike); multipart
bodies refuse unknown fields; the OpenAPI document states the constraints the server enforces."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.runtime.forms import unsafe_values
from models import HumanTask
from tests.helpers import FACTS_500K
from web.api.bodies import problems
from web.db import db

from .helpers import FACTS, create_case, post, text
from .test_api import api, assert_problem, open_case  # noqa: F401 - the api fixture
from .test_api_evidence import FIELDS as EVIDENCE_FIELDS

FORMS = Path(__file__).resolve().parents[2] / "workflows" / "forms"


@pytest.fixture
def claimed(api):
    """The register_facts task of a new case, claimed by samr_handler through the API."""
    case = open_case(api)
    handler = api("samr_handler")
    task = handler.task_of(case["id"], "register_facts")
    assert handler.post(f"/tasks/{task['id']}/claim").status_code == 200
    return handler, task["id"]


def complete_raw(client, task_id: int, body: str):
    """POST a body exactly as given (json.dumps would refuse or rewrite some of these)."""
    return client.client.post(f"/api/v1/tasks/{task_id}/complete", data=body.encode("utf-8"),
                              headers={**client.headers, "Content-Type": "application/json"})


def facts_with(**raw: str) -> str:
    """FACTS_500K as a JSON text with some fields replaced by raw JSON text."""
    body = json.dumps({"data": {k: v for k, v in FACTS_500K.items() if k not in raw}}, ensure_ascii=False)
    extra = ", ".join(f'"{name}": {value}' for name, value in raw.items())
    return body[:-2] + ", " + extra + "}}"


@pytest.mark.parametrize("raw, reason", [
    ("NaN", "finite"), ("Infinity", "finite"), ("-Infinity", "finite"), ("1e400", "finite"),
    ("-1e400", "finite"), ("1" * 5000, "at most 40"), ("1e308", "maximum"), ("1000000000001", "maximum"),
])
def test_task_numbers_beyond_reason_are_refused_with_their_field(claimed, raw, reason):
    handler, task_id = claimed
    response = complete_raw(handler, task_id, facts_with(loss_amount=raw))
    body = assert_problem(response, 422, "invalid-input")
    # The form's fields are named as the form names them; a number too long even to parse is
    # named where it is in the body.
    field = "data.loss_amount" if reason == "at most 40" else "loss_amount"
    assert list(body["errors"]) == [field], body
    assert reason in " ".join(body["errors"][field])


@pytest.mark.parametrize("raw, field, reason", [
    ('"甲公司\\u0000"', "party_name", "NUL"),
    ('"甲公司\\ud800"', "party_name", "surrogate"),
    ('"\\udc00甲"', "party_name", "surrogate"),
])
def test_task_strings_that_cannot_be_stored_are_refused(claimed, raw, field, reason):
    handler, task_id = claimed
    body = assert_problem(complete_raw(handler, task_id, facts_with(party_name=raw)), 422, "invalid-input")
    assert field in body["errors"] and reason in body["errors"][field][0]


def test_a_name_with_nul_is_refused(claimed):
    handler, task_id = claimed
    body = assert_problem(complete_raw(handler, task_id, facts_with(**{"bad\\u0000name": "1"})), 422,
                          "invalid-input")
    assert any("NUL" in reason for reasons in body["errors"].values() for reason in reasons)


def test_a_body_nested_3000_deep_is_refused_with_its_field(claimed):
    handler, task_id = claimed
    deep = "[" * 3000 + "]" * 3000
    body = assert_problem(complete_raw(handler, task_id, facts_with(summary=deep)), 422, "invalid-input")
    [(field, reasons)] = body["errors"].items()
    assert field.startswith("data.summary") and "nested" in reasons[0]
    objects = '{"a":' * 3000 + "1" + "}" * 3000
    body = assert_problem(complete_raw(handler, task_id, facts_with(summary=objects)), 422, "invalid-input")
    assert next(iter(body["errors"])).startswith("data.summary.a.a")


def test_the_surrogate_pair_of_a_real_character_is_fine(claimed, app):
    handler, task_id = claimed
    response = complete_raw(handler, task_id, facts_with(party_name='"\\ud83d\\ude00甲公司"'))
    assert response.status_code == 200, response.get_data(as_text=True)
    with db.new_session(app) as session:
        assert session.get(HumanTask, task_id).result["party_name"] == "😀甲公司"


def test_a_json_body_over_a_megabyte_is_refused(claimed):
    handler, task_id = claimed
    response = complete_raw(handler, task_id, facts_with(summary=json.dumps("甲" * 600_000)))
    assert_problem(response, 413, "too-large")


def test_nothing_was_stored_by_the_refusals(claimed, app):
    handler, task_id = claimed
    for raw in ("NaN", "1e400"):
        complete_raw(handler, task_id, facts_with(loss_amount=raw))
    with db.new_session(app) as session:
        task = session.get(HumanTask, task_id)
        assert task.state == "open" and task.result is None


@pytest.mark.parametrize("body", [{"title": "\u0000"}, {"title": "甲\ud800"}, {"title": "   "},
                                  {"title": "甲" * 301}])
def test_case_titles_are_checked_by_the_schema(api, body):
    response = api("samr_handler").client.post(
        "/api/v1/cases", data=json.dumps(body).encode(), headers={**api("samr_handler").headers,
                                                                   "Content-Type": "application/json"})
    assert list(assert_problem(response, 422, "invalid-input")["errors"]) == ["title"]


def test_multipart_uploads_refuse_unknown_fields(api):
    case = open_case(api)
    handler = api("samr_handler")
    data = {**EVIDENCE_FIELDS, "colector_3": "拼错的字段", "file": (io.BytesIO(b"text\n"), "a.txt")}
    response = handler.client.post(f"/api/v1/cases/{case['id']}/evidence", data=data, headers=handler.headers,
                                   content_type="multipart/form-data")
    assert list(assert_problem(response, 422, "invalid-input")["errors"]) == ["colector_3"]


def test_the_document_states_the_enforced_constraints(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    title = schemas["CaseCreate"]["properties"]["title"]
    assert (title["minLength"], title["maxLength"]) == (1, 300) and "\\s" in title["pattern"]
    assert "\\u0000" in schemas["Reassignment"]["properties"]["assignee"]["pattern"]
    assert schemas["DeployRequest"]["properties"]["name"]["pattern"] == "^[a-z][a-z0-9_]{0,99}$"
    upload = next(body for path, item in document["paths"].items() if path.endswith("/evidence")
                  for body in [item.get("post", {}).get("requestBody")] if body)
    fields = upload["content"]["multipart/form-data"]["schema"]
    fields = schemas[fields["$ref"].rsplit("/", 1)[1]] if "$ref" in fields else fields
    assert fields["properties"]["description"]["maxLength"] == 2000
    assert fields["properties"]["declared_sha256"]["pattern"] == "^[0-9a-fA-F]{64}$"
    assert fields.get("additionalProperties") is False


def test_every_number_in_every_form_declares_its_bounds():
    def numbers(node, path):
        if isinstance(node, dict):
            if node.get("type") in ("number", "integer"):
                yield path, node
            for key, value in node.items():
                yield from numbers(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from numbers(value, f"{path}[{i}]")

    found = [(f"{form.name}{path}", node) for form in sorted(FORMS.glob("*.json"))
             for path, node in numbers(json.loads(form.read_text(encoding="utf-8")), "")]
    assert len(found) >= 8
    for where, node in found:
        assert "maximum" in node and "minimum" in node, where


# --- pages: the same refusals through the task form -----------------------------------------

@pytest.mark.parametrize("field, value", [("loss_amount", "1e308"), ("loss_amount", "NaN"),
                                          ("loss_amount", "1e400"), ("summary", "事实\x00")])
def test_the_task_page_refuses_them_with_the_field(app, client_for, field, value):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    with db.new_session(app) as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id))
    assert post(handler, f"/tasks/{task_id}/claim", token_from=f"/tasks/{task_id}").status_code == 303
    response = post(handler, f"/tasks/{task_id}/complete", {**FACTS, field: value}, token_from=f"/tasks/{task_id}")
    assert response.status_code == 422
    assert f'id="field-{field}"' in text(response)
    with db.new_session(app) as session:
        assert session.get(HumanTask, task_id).state == "open"


# --- the checks themselves ------------------------------------------------------------------

def test_unsafe_values_walks_without_recursion():
    deep: list = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]
    assert unsafe_values({"x": deep}) == {"x" + ".0" * 15: ["must not be nested more than 16 levels deep"]}
    assert unsafe_values({"a": [1.5, float("nan")], "b": {"c": "\x00"}}) == {
        "a.1": ["must be a finite number"], "b.c": ["must not contain NUL characters"]}
    assert unsafe_values({"ok": [1, 2.5, "文本", {"d": None, "e": True}]}) == {}


def test_body_problems_name_list_items_and_keys():
    long = "9" * 41
    assert problems(f'{{"a": [1, 2, {long}], "b": {{"c": [[[[1]]]]}}}}', max_depth=4) == {
        "a.2": ["must be a number of at most 40 characters"],
        "b.c.0.0": ["must not be nested more than 4 levels deep"]}
    assert problems('{"a": "NaN", "b": "[[[[{{{{", "c": 1.5e10, "d": "\\"[["}', max_depth=2) == {}
