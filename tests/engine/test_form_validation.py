"""A form's data is checked against its schema by a validator built once per schema and kept
(engine/runtime/forms.py): the same answers as a validator built for the check, one validator for
each deployed schema however often it checks, a schema built anew gets its own, and what is kept
stays bounded."""
from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from engine.errors import InvalidInput
from engine.runtime import forms
from engine.runtime.deploy import read_bundle

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(scope="module")
def transfer_forms() -> dict:
    return dict(read_bundle(WORKFLOWS / "case_transfer.bpmn").forms)


def _errors(schema, data):
    try:
        forms.validate_submission(schema, data)
    except InvalidInput as refused:
        return refused.errors
    return None


def _fresh_errors(schema, data):
    """The check as it was, with a validator built for it."""
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return sorted((list(e.path), e.validator) for e in validator.iter_errors(data))


@pytest.mark.parametrize("data", [{}, {"amount": "x"}, {"unknown": 1}, {"summary": 5, "amount": -1}])
def test_a_kept_validator_answers_as_a_new_one(transfer_forms, data):
    for name, schema in sorted(transfer_forms.items()):
        kept = forms._validator(schema)
        assert sorted((list(e.path), e.validator) for e in kept.iter_errors(data)) == _fresh_errors(schema, data), name
        assert (_errors(schema, data) is None) == (not _fresh_errors(schema, data)), name


def test_one_validator_per_schema(transfer_forms):
    schema = next(iter(transfer_forms.values()))
    assert forms._validator(schema) is forms._validator(schema)
    copy = dict(schema)  # equal, but another object: it may change, so it is not the same schema
    assert forms._validator(copy) is not forms._validator(schema)


def test_what_is_kept_is_bounded(monkeypatch):
    monkeypatch.setattr(forms, "_VALIDATORS", {})
    schemas = [{"type": "object", "properties": {f"f{n}": {"type": "string"}}} for n in range(forms._VALIDATORS_KEPT + 5)]
    for schema in schemas:
        forms._validator(schema)
        assert len(forms._VALIDATORS) <= forms._VALIDATORS_KEPT
    last = f"f{len(schemas) - 1}"
    assert _errors(schemas[-1], {last: 1}) == {last: ["1 is not of type 'string'"]}
