"""web.forms: a list of fixed values (agencies to invite, channels to open) as ticked boxes."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from web import forms

from .test_forms import load, request_context  # noqa: F401 - the autouse app context


def test_a_list_of_options_is_a_box_each():
    fields = {f.name: f for f in forms.render_fields(load("consultation_proposal"))}
    invited = fields["invited_agencies"]
    assert invited.widget == "checkboxes" and invited.value == []
    assert [(c.value, c.label) for c in invited.choices] == [
        ("samr", "区市场监督管理局"), ("police", "区公安分局"), ("procuratorate", "区人民检察院"), ("court", "区人民法院")]
    again = {f.name: f for f in forms.render_fields(load("consultation_proposal"), {"invited_agencies": ["court"]})}
    assert again["invited_agencies"].value == ["court"]


@pytest.mark.parametrize(("posted", "data", "errors"), [
    (MultiDict([("channels", "civil"), ("channels", "criminal")]), ["civil", "criminal"], {}),
    (MultiDict(), [], {}),  # required: an empty list, for the schema to judge
    (MultiDict([("channels", "mail")]), None, {"channels": ["请从选项中选择"]}),
])
def test_ticked_boxes_become_a_list(posted, data, errors):
    coerced, found = forms.coerce(load("complaint_filing_decision"), posted)
    assert coerced.get("channels") == data
    assert found == errors


def test_an_optional_list_left_empty_is_left_out():
    schema = {"type": "object", "properties": {"tags": {
        "type": "array", "title": "标签", "items": {"type": "string", "enum": ["a", "b"]}}}}
    assert forms.coerce(schema, MultiDict()) == ({}, {})


def test_a_stored_list_reads_as_its_labels():
    prop = load("consultation_proposal")["properties"]["invited_agencies"]
    assert forms.display_value(prop, ["police", "court"]) == "区公安分局、区人民法院"


def test_posted_values_keep_every_ticked_box():
    posted = MultiDict([("invited_agencies", "police"), ("invited_agencies", "court"), ("topic", "议题")])
    values = forms.posted_values(load("consultation_proposal"), posted)
    assert values["invited_agencies"] == ["police", "court"] and values["topic"] == "议题"
