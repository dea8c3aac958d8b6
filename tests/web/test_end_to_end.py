"""A case carried through every role of case_transfer to 立案 and the handover of seized items, each
person in their own browser."""
from __future__ import annotations

import html as htmllib
import re

from .helpers import FACTS, claim_and_complete, create_case, open_task, text

# (user, diagram task, title, form data) in the order the process asks for them.
STEPS = [
    ("samr_handler", "register_facts", "登记案件事实", FACTS),
    ("samr_head", "decide_transfer", "负责人审批移送", {"transfer_approved": "true", "administrative_penalty": "false"}),
    ("samr_liaison", "approve_outgoing_handoff", "联络员审核移交", {"handoff_approved": "true", "comment": ""}),
    ("police_liaison", "accept_receipt", "联络员签收移送案件",
     {"received": "true", "receipt_outcome": "accepted", "missing_materials": "", "forwarded_to": ""}),
    ("police_handler", "review_case", "审查移送案件", {"recommendation": "file", "opinion": "符合立案条件。"}),
    ("police_head", "decide_filing", "负责人决定是否立案", {"filing_decision": "file", "filing_reasons": ""}),
    ("police_liaison", "approve_filing_notice_handoff", "联络员审核立案决定送达", {"released": "true"}),
    ("samr_liaison", "accept_filing_notice", "联络员接收立案决定", {"received": "true"}),
    ("samr_handler", "prepare_handover", "移交涉案物品和材料", {"handover_items": "涉案U盘｜2｜封存完好"}),
    ("samr_liaison", "approve_handover_handoff", "联络员审核物品移交", {"released": "true"}),
    ("police_liaison", "accept_handover", "联络员接收移交物品", {"received": "true"}),
    ("police_handler", "confirm_handover", "清点核对交接单", {"discrepancies_found": "false", "discrepancies": ""}),
    ("police_liaison", "approve_handover_confirmation_handoff", "联络员审核核对结果送达", {"released": "true"}),
    ("samr_liaison", "accept_handover_confirmation", "联络员接收交接核对结果", {"received": "true"}),
]


def _timeline(page: str) -> list[tuple[str, str]]:
    """(event type, detail) for each row of the case page's timeline."""
    rows = re.findall(r'<tr data-event="([a-z_]+)">(.*?)</tr>', page, re.S)
    return [(event, htmllib.unescape(re.findall(r"<td>(.*?)</td>", cells, re.S)[-1].strip()))
            for event, cells in rows]


def test_case_goes_from_samr_to_police_filing(app, client_for, runner):
    browsers = {}

    def browser(username):
        if username not in browsers:
            browsers[username] = client_for(username)
        return browsers[username]

    case_id = create_case(browser("samr_handler"), title="某精密机械公司技术秘密被侵犯案")
    for username, bpmn_id, title, data in STEPS:
        inbox = text(browser(username).get("/"))
        task = open_task(app, case_id, bpmn_id)
        assert f'<a href="/tasks/{task.id}">{title}</a>' in inbox, (username, bpmn_id)
        response = claim_and_complete(browser(username), task.id, data)
        assert response.status_code == 303, (bpmn_id, text(response))
        # A separate worker delivers messages between instances; running it is always safe.
        assert runner.invoke(args=["worker", "--once"]).exit_code == 0

    page = text(browser("samr_handler").get(f"/cases/{case_id}"))
    events = _timeline(page)
    for _user, _bpmn_id, title, _data in STEPS:
        for event in ("task_created", "task_claimed", "task_completed"):
            assert (event, title) in events, (event, title)
    assert [d for e, d in events if e == "handoff_approved"] == [
        title for _u, bpmn_id, title, _d in STEPS if bpmn_id.startswith(("approve_", "accept_"))]
    assert events[0][0] == "case_created" and events[-1][0] == "instance_completed"
    assert "聊城市公安局东昌府分局" in page  # police joined the case
    assert re.search(r'<tr class="instance-completed">.*?已完成', page, re.S)
    # The police see the case they took part in, the procuratorate copied on the transfer observes
    # it; an uninvolved agency still does not see it.
    assert browser("police_head").get(f"/cases/{case_id}").status_code == 200
    assert client_for("procuratorate_handler").get(f"/cases/{case_id}").status_code == 200
    assert client_for("court_handler").get(f"/cases/{case_id}").status_code == 404
    assert runner.invoke(args=["audit", "verify", "--case", str(case_id)]).output == "OK\n"
