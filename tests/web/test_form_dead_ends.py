"""Forms without dead ends: 证据互认 on a case without evidence can be declined with a reason; an
agency is never offered itself as the receiver (and is refused if it sends itself); a field
required only under a condition carries its required mark only while the condition holds; a
text that breaks a field's pattern is told so in words naming the field, never as a regular
expression."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import ProcessInstance
from web import forms
from web.db import db

from .helpers import claim_and_complete, create_case, field_html, open_task, post, text

PATTERN_ERROR = ("'U盘' does not match '^[^|｜\\\\n]+[|｜] *[0-9]+ *[|｜][^|｜\\\\n]+"
                 "(\\\\n[^|｜\\\\n]+[|｜] *[0-9]+ *[|｜][^|｜\\\\n]+)*\\\\n?$'")


def _start_recognition(app, client) -> tuple[int, int]:
    case_id = create_case(client, title="无证据的案件")
    started = post(client, f"/cases/{case_id}/mechanisms", {"key": "evidence_recognition"},
                   token_from=f"/cases/{case_id}")
    assert started.status_code == 303
    task = open_task(app, case_id, "submit_package")
    assert post(client, f"/tasks/{task.id}/claim", token_from=f"/tasks/{task.id}").status_code == 303
    return case_id, task.id


def _star(field: str) -> str | None:
    """The required mark of a field's HTML: 'shown', 'hidden' or None (no mark)."""
    mark = re.search(r'<span class="required"[^>]*>', field)
    return None if mark is None else ("hidden" if " hidden" in mark.group(0) else "shown")


def test_recognition_on_a_case_without_evidence_can_be_declined(app, client_for):
    handler = client_for("samr_handler")
    case_id, task_id = _start_recognition(app, handler)
    page = text(handler.get(f"/tasks/{task_id}"))
    assert "没有可选的项目。" in field_html(page, "item_ids")
    # Declining needs a reason: its mark is hidden until "no" is chosen, the items' shown until then.
    assert _star(field_html(page, "withdrawal_reason")) == "hidden"
    assert _star(field_html(page, "item_ids")) == "shown"
    assert 'data-required-when=' in field_html(page, "withdrawal_reason")
    no_reason = post(handler, f"/tasks/{task_id}/complete", {"proceed": "false", "withdrawal_reason": ""},
                     token_from=f"/tasks/{task_id}")
    assert no_reason.status_code == 422
    again = text(no_reason)
    assert "此项为必填项" in field_html(again, "withdrawal_reason")
    # Drawn again with "no" chosen: now the reason is marked required and the items are not.
    assert _star(field_html(again, "withdrawal_reason")) == "shown"
    assert _star(field_html(again, "item_ids")) == "hidden"
    done = claim_and_complete(handler, task_id, {"proceed": "false", "withdrawal_reason": "本案尚无本局收集的证据。"})
    assert done.status_code == 303, text(done)
    with db.new_session(app) as session:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                                  .order_by(ProcessInstance.id.desc()))
        assert instance.status == "completed"


def test_an_agency_is_not_offered_itself_as_the_receiver(app, client_for):
    from .test_evidence_recognition import evidence_ids, upload

    handler = client_for("samr_handler")
    case_id = create_case(handler, title="有证据的案件")
    upload(handler, case_id, kind="documentary", description="保密协议")
    [item] = evidence_ids(app).values()
    post(handler, f"/cases/{case_id}/mechanisms", {"key": "evidence_recognition"}, token_from=f"/cases/{case_id}")
    task_id = open_task(app, case_id, "submit_package").id
    assert post(handler, f"/tasks/{task_id}/claim", token_from=f"/tasks/{task_id}").status_code == 303
    receivers = field_html(text(handler.get(f"/tasks/{task_id}")), "receiving_agency")
    offered = re.findall(r'name="receiving_agency" value="([a-z]+)"', receivers)
    assert "samr" not in offered and {"police", "procuratorate", "court"} <= set(offered)
    # Sent by hand, one's own agency is refused with a sentence, on the field.
    refused = post(handler, f"/tasks/{task_id}/complete", {
        "proceed": "true", "item_ids": [str(item)], "receiving_agency": "samr", "purpose": "互认"},
        token_from=f"/tasks/{task_id}")
    assert refused.status_code == 422
    assert "请从选项中选择" in field_html(text(refused), "receiving_agency")
    # In English the options are the form's English titles.
    english = field_html(text(handler.get(f"/tasks/{task_id}?lang=en")), "receiving_agency")
    assert "公安机关" not in english and "Police" in english


def test_a_reason_needed_only_for_one_answer_is_marked_only_then(app):
    with app.test_request_context("/"):
        schema = _form("filing_decision")
        fields = {f.name: f for f in forms.render_fields(schema)}
        assert fields["filing_decision"].required and not fields["filing_decision"].required_when
        reasons = fields["filing_reasons"]
        assert not reasons.required and '"not_file"' in reasons.required_when
        refused = {f.name: f for f in forms.render_fields(schema, {"filing_decision": "not_file"})}
        assert refused["filing_reasons"].required


def test_a_pattern_error_is_a_sentence_naming_the_field(app):
    with app.test_request_context("/"):
        schema = _form("handover_list")
        [items] = [f for f in forms.render_fields(schema, {"handover_items": "U盘"},
                                                  {"handover_items": [PATTERN_ERROR]}) if f.name == "handover_items"]
        assert items.errors == ["“交接清单”的写法不符合填写说明，请按说明填写。"]
        assert "^" not in items.errors[0] and "does not match" not in items.errors[0]
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        [items] = [f for f in forms.render_fields(schema, {"handover_items": "U盘"},
                                                  {"handover_items": [PATTERN_ERROR]}) if f.name == "handover_items"]
        assert items.errors == ["交接清单 is not written as its description asks."]


def _form(name: str) -> dict:
    import json

    from tests.conftest import WORKFLOWS

    return json.loads((WORKFLOWS / "forms" / f"{name}.json").read_text(encoding="utf-8"))

