"""A process model's immutable parts are read once per process (engine/runtime/definitions.py), and each
workflow still gets spec objects of its own: SpiffWorkflow wires a pool into its spec when a
message starts it, and that must not leak into other cases."""
from __future__ import annotations

from sqlalchemy import event, select

import engine
from engine.runtime.definitions import definition
from engine.runtime.instances import load
from models import ProcessModel
from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, act, instance_of


def _model_id(session, key: str) -> int:
    return session.scalar(select(ProcessModel.id).where(ProcessModel.key == key).order_by(ProcessModel.id.desc()))


def test_a_definition_is_read_once(session, db):
    model_id = _model_id(session, "case_transfer")
    first = definition(session, model_id)
    statements = []
    event.listen(db[0], "before_cursor_execute", lambda *args: statements.append(args[2]))
    again = definition(session, model_id)
    assert again is first and statements == []
    assert again.form("register_facts")["properties"]["loss_amount"]
    assert again.form(None) == {"type": "object"}


def test_each_workflow_gets_spec_objects_of_its_own(session, users):
    model = definition(session, _model_id(session, "case_transfer"))
    one, other = model.specs(), model.specs()
    assert one[0] is not other[0] and one[1]["police_transfer"] is not other[1]["police_transfer"]
    pristine = [spec.name for spec in model.specs()[0].start.outputs]
    assert "police_transfer" not in pristine, "the police's pool starts on the transfer message"

    # A case whose transfer reaches the police: its workflow wires the police's pool into its spec.
    case = engine.create_case(session, users["samr_handler"], "规格隔离案件")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    engine.deliver_pending(session)
    workflow = load(session, instance_of(session, case.id))
    assert "police_transfer" in [spec.name for spec in workflow.spec.start.outputs]

    # The next case starts from the spec as deployed.
    assert [spec.name for spec in model.specs()[0].start.outputs] == pristine
    second = engine.create_case(session, users["samr_handler"], "第二个案件")
    assert [spec.name for spec in load(session, instance_of(session, second.id)).spec.start.outputs] == pristine
