"""One multi-instance task routed to several agencies by a variable (`agency_from`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine import claim_task, complete_task, create_case, inbox
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from tests.helpers import act, open_tasks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"


@pytest.fixture
def case(session, users):
    deploy_folder(session, FIXTURES)
    case = create_case(session, users["samr_handler"], "多单位答复")
    start_mechanism(session, users["samr_handler"], case.id, "ask_agencies")
    return case


@pytest.mark.parametrize("order", [("police", "procuratorate"), ("procuratorate", "police")])
def test_each_invited_agency_answers_in_any_order(session, users, case, order):
    act(session, users["samr_handler"], case.id, "invite", {"invited": ["police", "procuratorate"]})
    answers = {t.agency.code: t for t in open_tasks(session, case.id) if t.bpmn_id == "answer"}
    assert {code: t.role for code, t in answers.items()} == {"police": "liaison", "procuratorate": "liaison"}
    assert [t.bpmn_id for t in inbox(session, users["procuratorate_liaison"]).items] == ["answer"]
    for code in order:
        liaison = users[f"{code}_liaison"]
        claim_task(session, liaison, answers[code].id)
        complete_task(session, liaison, answers[code].id, {"note": f"{code} 意见"})
    assert [t.bpmn_id for t in open_tasks(session, case.id) if t.bpmn_id != "register_facts"] == ["summary"]


def test_an_unknown_agency_stops_the_instance_with_the_reason(session, users, case):
    act(session, users["samr_handler"], case.id, "invite", {"invited": ["police", "mars"]})
    instance = next(i for i in case_instances(session, case) if i.process_model.key == "ask_agencies")
    session.refresh(instance)
    assert instance.status == "error"
    assert "'mars'" in instance.error["message"] and "agency" in instance.error["message"]


def case_instances(session, case):
    from engine import case_instances as query

    return query(session, case)
