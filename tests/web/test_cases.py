"""Opening a case, the case list, and the case page with its participants, tasks and timeline."""
from __future__ import annotations

import re

from .helpers import FACTS, claim_and_complete, create_case, field_html, open_task, post, text


def test_samr_handler_opens_a_case_and_lands_on_its_page(client_for):
    handler = client_for("samr_handler")
    form = text(handler.get("/cases/new"))
    assert '<option value="confidential" selected>保密</option>' in form
    case_id = create_case(handler, title="甲公司技术秘密案", confidentiality="secret")
    html = text(handler.get(f"/cases/{case_id}"))
    assert f"LD2026-{case_id:05d}" in html and "甲公司技术秘密案" in html
    assert "机密" in html  # confidentiality label
    assert "聊城市东昌府区市场监督管理局" in html  # participant
    assert "进行中" in html  # instance status
    assert "登记案件事实" in html and "东市监 · 承办人" in html


def test_case_list_shows_the_agencys_cases(client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler, title="列表中的案件")
    html = text(client_for("samr_head").get("/cases/"))
    assert f'<a href="/cases/{case_id}">LD2026-{case_id:05d}</a>' in html
    assert "列表中的案件" in html
    supervisor = text(client_for("office_supervisor").get("/cases/"))
    assert "列表中的案件" in supervisor  # supervisors see every case


def test_invalid_case_is_shown_again_with_field_errors(client_for):
    handler = client_for("samr_handler")
    response = post(handler, "/cases/new", {"title": "   ", "confidentiality": "top"}, token_from="/cases/new")
    assert response.status_code == 422
    html = text(response)
    assert "此项为必填项" in field_html(html, "title")
    assert "请从选项中选择" in field_html(html, "confidentiality")
    assert "/cases/1" not in html


def test_timeline_shows_time_actor_agency_and_labelled_events(app, client_for, clock):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    clock.advance(minutes=30)
    claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS)
    html = text(handler.get(f"/cases/{case_id}"))
    timeline = html.split("办理记录", 1)[1]
    events = re.findall(r'data-event="([a-z_]+)"', timeline)
    assert events[:3] == ["case_created", "instance_started", "task_created"]
    # Registering the facts is the officers' transfer report, the legal event the head's 3 days run from.
    assert events[3:7] == ["task_claimed", "task_completed", "legal_event_recorded", "task_created"]
    assert "案件登记" in timeline and "任务认领" in timeline and "任务办结" in timeline
    assert "2026-03-02 09:00:00" in timeline and "2026-03-02 09:30:00" in timeline
    assert "王承办（市场监管）" in timeline and "聊城市东昌府区市场监督管理局" in timeline
    # The facts' free text never reaches the timeline.
    assert "前员工离职后" not in html


def test_case_page_in_english(client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    html = text(handler.get(f"/cases/{case_id}?lang=en"))
    assert "Timeline" in html and "Case opened" in html and "Running" in html
