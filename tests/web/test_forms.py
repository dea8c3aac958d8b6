"""web.forms: widgets chosen from the JSON Schema, and posted strings coerced back to JSON."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from web import create_app, forms

FORMS = Path(__file__).resolve().parents[2] / "workflows" / "forms"


def load(name: str) -> dict:
    return json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def request_context(tmp_path, monkeypatch):
    # Pure functions: an app only for gettext, on an in-memory database that is never opened.
    monkeypatch.setenv("LIANDONG_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    with app.test_request_context("/"):
        yield


def by_name(fields):
    return {f.name: f for f in fields}


def test_widgets_follow_the_schema():
    fields = by_name(forms.render_fields(load("register_facts")))
    assert fields["party_name"].widget == "text"  # maxLength 200 is not "long"
    assert fields["summary"].widget == "textarea"
    assert fields["loss_amount"].widget == "number" and fields["loss_amount"].attrs["min"] == "0"
    assert fields["bankruptcy_caused"].widget == "radio"
    assert [c.label for c in fields["bankruptcy_caused"].choices] == ["是", "否"]
    assert fields["bankruptcy_caused"].value == "false"  # default
    assert fields["suspected_offence"].value == "侵犯商业秘密罪"
    assert all(f.required for f in fields.values())


def test_one_of_const_titles_become_labelled_options():
    fields = by_name(forms.render_fields(load("filing_decision")))
    decision = fields["filing_decision"]
    assert decision.widget == "radio"
    assert [(c.value, c.label) for c in decision.choices] == [("file", "立案"), ("not_file", "不予立案")]


def test_confirmation_boolean_is_a_checkbox():
    fields = by_name(forms.render_fields(load("handoff_receipt")))
    assert fields["received"].widget == "checkbox"
    assert forms.coerce(load("handoff_receipt"), {"received": "true"}) == ({"received": True}, {})
    assert forms.coerce(load("handoff_receipt"), {}) == ({}, {})


def test_many_options_become_a_select_and_enum_values_keep_their_type():
    schema = {"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2, 3, 4, 5]}}}
    field = forms.render_fields(schema)[0]
    assert field.widget == "select" and field.choices[0].value == "1"
    assert forms.coerce(schema, {"n": "3"}) == ({"n": 3}, {})


def test_coerce_types_and_omits_empty_optional_fields():
    data, errors = forms.coerce(load("register_facts"), {
        "party_name": " 某公司 ", "suspected_offence": "侵犯商业秘密罪", "loss_amount": "500,000",
        "illegal_gain": "1234.5", "bankruptcy_caused": "true", "other_major_loss": "false",
        "police_measures_needed": "", "summary": "a\r\nb", "csrf_token": "ignored",
    })
    assert errors == {}
    assert data == {"party_name": "某公司", "suspected_offence": "侵犯商业秘密罪", "loss_amount": 500000,
                    "illegal_gain": 1234.5, "bankruptcy_caused": True, "other_major_loss": False,
                    "signing_officers": [], "summary": "a\nb"}


def test_an_empty_nullable_number_is_unknown_not_zero_and_shown_so():
    schema = load("register_facts")
    data, errors = forms.coerce(schema, {"loss_amount": "", "illegal_gain": "0"})
    assert errors == {} and data["loss_amount"] is None and data["illegal_gain"] == 0
    assert forms.render_fields(schema)[2].widget == "number"
    assert forms.display_value(schema["properties"]["loss_amount"], None) == "不明"


def test_non_numbers_and_bad_booleans_are_field_errors_not_crashes():
    data, errors = forms.coerce(load("register_facts"), {
        "loss_amount": "五十万", "illegal_gain": "nan", "bankruptcy_caused": "maybe"})
    assert errors == {"loss_amount": ["请输入数字"], "illegal_gain": ["请输入数字"],
                      "bankruptcy_caused": ["请选择“是”或“否”"]}
    assert "loss_amount" not in data


def test_integer_fields_refuse_fractions():
    schema = {"type": "object", "properties": {"days": {"type": "integer"}}}
    assert forms.coerce(schema, {"days": "3"}) == ({"days": 3}, {})
    assert forms.coerce(schema, {"days": "3.0"}) == ({"days": 3}, {})
    assert forms.coerce(schema, {"days": "3.5"})[1] == {"days": ["请输入数字"]}


def test_required_text_that_may_be_empty_is_sent_as_empty_string():
    # filing_reasons is required but may be empty when the decision is to file.
    data, _ = forms.coerce(load("filing_decision"), {"filing_decision": "file", "filing_reasons": ""})
    assert data == {"filing_decision": "file", "filing_reasons": ""}
    # party_name has minLength 1: leaving it out lets the engine say "required".
    data, _ = forms.coerce(load("register_facts"), {"party_name": ""})
    assert "party_name" not in data


def test_submitted_values_and_errors_are_shown_on_their_fields():
    fields = by_name(forms.render_fields(load("transfer_decision"), {"transfer_approved": "false"},
                                         {"reasons": ["required"]}))
    assert fields["transfer_approved"].value == "false"
    assert fields["reasons"].errors == ["此项为必填项"]


@pytest.mark.parametrize("message, shown", [
    ("'' should be non-empty", "此项不能为空"),
    ("-1 is less than the minimum of 0", "数值过小"),
    ("'x' is not valid under any of the given schemas", "请从选项中选择"),
    ("True was expected", "请勾选确认"),
    ("something new", "something new"),
])
def test_engine_messages_are_explained(message, shown):
    assert forms.explain(message) == shown


def test_display_value_uses_option_titles():
    schema = load("filing_decision")["properties"]["filing_decision"]
    assert forms.display_value(schema, "not_file") == "不予立案"
    assert forms.display_value({"type": "boolean"}, True) == "是"
    assert forms.display_value({"type": "number"}, 500000) == "500000"
