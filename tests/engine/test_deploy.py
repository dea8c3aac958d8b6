"""Deploying process models: every broken input is refused by name, nothing is half-written,
and content-addressed versions keep running instances on the version they started on.

Each test deploys a copy of the real workflows/ folder made in tmp_path, broken in one place.
"""
from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

import engine
from models import SYSTEM_CHAIN, AuditChain, AuditEvent, ProcessModel
from tests.conftest import WORKFLOWS
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    RECEIPT,
    REVIEW_FILE,
    act,
    hand_over,
    instance_of,
    notify_filing,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
KEY = "case_transfer"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of the real workflows/ folder: the diagram, its DMN table, its forms and the catalog of legal periods."""
    dst = tmp_path / "workflows"
    dst.mkdir()
    shutil.copy(WORKFLOWS / "case_transfer.bpmn", dst)
    shutil.copy(WORKFLOWS / "criminal_threshold.dmn", dst)
    shutil.copy(WORKFLOWS / "deadlines.toml", dst)
    shutil.copytree(WORKFLOWS / "forms", dst / "forms")
    return dst


def replace_once(path: Path, old: str, new: str) -> None:
    """Replace the only occurrence of `old`; fail loudly if the real file stops matching."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"expected exactly one {old!r} in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def replace_in_element(path: Path, element_id: str, old: str, new: str) -> None:
    """Replace the first `old` after the element with id `element_id` (and before its end)."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f'id="{element_id}"')
    at = text.index(old, start)
    assert at < text.index("</bpmn:", start), f"{old!r} is not inside {element_id}"
    path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")


def edit_form(path: Path, change: Callable[[dict], None]) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")


def snapshot(session) -> tuple:
    """What a deploy may change: the models, the audit events and the chain heads."""
    state = (
        session.execute(
            select(ProcessModel.id, ProcessModel.key, ProcessModel.version).order_by(ProcessModel.id)
        ).all(),
        session.scalar(select(func.count()).select_from(AuditEvent)),
        session.execute(
            select(AuditChain.name, AuditChain.last_seq, AuditChain.last_hash).order_by(AuditChain.name)
        ).all(),
    )
    session.commit()  # end the read transaction (SQLite takes its write lock at BEGIN)
    return state


def latest(session, key: str = KEY) -> ProcessModel:
    return session.scalar(
        select(ProcessModel).where(ProcessModel.key == key).order_by(ProcessModel.id.desc()).limit(1)
    )


def system_events(session) -> list[AuditEvent]:
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.chain == SYSTEM_CHAIN).order_by(AuditEvent.seq)
    ))


# --------------------------------------------------------------------------- broken inputs


def truncate(folder: Path) -> Path:
    """Cut the diagram in the middle of line 61."""
    path = folder / "case_transfer.bpmn"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:60]) + lines[60][:20], encoding="utf-8")
    return path


def mismatched_tag(folder: Path) -> Path:
    """A closing tag misspelt on a known line."""
    path = folder / "case_transfer.bpmn"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines) if 'id="register_facts"' in text)
    close = next(i for i in range(line, len(lines)) if "</bpmn:userTask>" in lines[i])
    lines[close] = lines[close].replace("</bpmn:userTask>", "</bpmn:userTsk>")
    path.write_text("".join(lines), encoding="utf-8")
    mismatched_tag.line = close + 1
    return path


def bad_lane(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_once(path, 'name="samr.head"', 'name="samr.boss"')
    return path


def no_form_property(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_in_element(path, "acknowledge_decision",
                       '<spiffworkflow:property name="form" value="acknowledge_decision" />', "")
    return path


def form_missing(folder: Path) -> Path:
    (folder / "forms" / "police_review.json").unlink()
    return folder / "case_transfer.bpmn"


def form_bad_json(folder: Path) -> Path:
    form = folder / "forms" / "receipt.json"
    text = form.read_text(encoding="utf-8")
    form.write_text(text[: text.index('"receipt_note"')], encoding="utf-8")  # cut off mid-object
    return folder / "case_transfer.bpmn"


def form_bad_schema(folder: Path) -> Path:
    edit_form(folder / "forms" / "receipt.json", lambda s: s["properties"]["received"].update(type=5))
    return folder / "case_transfer.bpmn"


def form_not_object(folder: Path) -> Path:
    edit_form(folder / "forms" / "receipt.json", lambda s: s.update(type="array"))
    return folder / "case_transfer.bpmn"


def bad_deadline(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    text = path.read_text(encoding="utf-8")
    start = text.index('id="decide_transfer"')
    old = re.search(r'name="deadline" value="[^"]*"', text[start:]).group(0)
    replace_in_element(path, "decide_transfer", old, 'name="deadline" value="3x"')
    return path


def bad_handoff(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_in_element(path, "approve_outgoing_handoff", 'value="outgoing"', 'value="sideways"')
    return path


def no_payload(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_once(
        path,
        '<spiffworkflow:messagePayload>{"case_id": case_id, "threshold": threshold, '
        '"especially_serious": especially_serious}</spiffworkflow:messagePayload>',
        "",
    )
    return path


def empty_payload(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_once(
        path,
        '<spiffworkflow:messagePayload>{"decision": filing_decision, "reasons": filing_reasons}'
        "</spiffworkflow:messagePayload>",
        "<spiffworkflow:messagePayload></spiffworkflow:messagePayload>",
    )
    return path


def unknown_decision(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_once(path, ">criminal_threshold</spiffworkflow:calledDecisionId>",
                 ">criminal_threshold_v9</spiffworkflow:calledDecisionId>")
    return path


def two_collaborations(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_once(path, '  <bpmn:message id="msg_transfer_sent"',
                 '  <bpmn:collaboration id="second_collaboration" />\n  <bpmn:message id="msg_transfer_sent"')
    return path


def no_collaboration(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("<bpmn:collaboration "), text.index("</bpmn:collaboration>")
    path.write_text(text[:start] + text[end + len("</bpmn:collaboration>"):], encoding="utf-8")
    return path


def task_outside_lanes(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_once(path, "<bpmn:flowNodeRef>acknowledge_decision</bpmn:flowNodeRef>", "")
    return path


def form_name_not_snake_case(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_once(path, 'name="form" value="receipt"', 'name="form" value="../receipt"')
    return path


def message_end_without_payload(folder: Path) -> Path:
    """An end event that throws a message with no payload is refused like a throw event."""
    path = folder / "case_transfer.bpmn"
    replace_once(path, "<bpmn:incoming>f_transfer_refused</bpmn:incoming>",
                 "<bpmn:incoming>f_transfer_refused</bpmn:incoming>\n"
                 '      <bpmn:messageEventDefinition id="refused_message" messageRef="msg_filing_decided" />')
    return path


def whitespace_payload(folder: Path) -> Path:
    path = folder / "case_transfer.bpmn"
    replace_once(path, '{"decision": filing_decision, "reasons": filing_reasons}', "   ")
    return path


def line_of(folder: Path, element: str) -> int:
    lines = (folder / "case_transfer.bpmn").read_text(encoding="utf-8").splitlines()
    return 1 + next(i for i, text in enumerate(lines) if f'id="{element}"' in text)


def implicit_merge(folder: Path) -> Path:
    """The return loop drawn straight into the task, beside the flow from its merge gateway."""
    path = folder / "case_transfer.bpmn"
    replace_once(path, 'sourceRef="return_limit_gateway" targetRef="decide_transfer_merge"',
                 'sourceRef="return_limit_gateway" targetRef="decide_transfer"')
    implicit_merge.line = line_of(folder, "decide_transfer")
    return path


def gateway_joins_and_forks(folder: Path) -> Path:
    """The supplement loop drawn back into the event-based gateway, which then both joins and forks."""
    path = folder / "case_transfer.bpmn"
    replace_once(path, 'sourceRef="send_supplement" targetRef="await_police_merge"',
                 'sourceRef="send_supplement" targetRef="await_police"')
    return path


def implicit_split(folder: Path) -> Path:
    """A second flow out of a user task, instead of out of the decision gateway after it."""
    path = folder / "case_transfer.bpmn"
    replace_once(path, 'sourceRef="transfer_decision_gateway" targetRef="transfer_refused"',
                 'sourceRef="decide_transfer" targetRef="transfer_refused"')
    return path


def dmn_truncated(folder: Path) -> Path:
    dmn = folder / "criminal_threshold.dmn"
    lines = dmn.read_text(encoding="utf-8").splitlines(keepends=True)
    dmn.write_text("".join(lines[:19]) + lines[19][:10], encoding="utf-8")
    return folder / "case_transfer.bpmn"


def dmn_gbk(folder: Path) -> Path:
    """A DMN table saved in GBK (declared so in its XML prolog), as Windows editors in China do."""
    dmn = folder / "criminal_threshold.dmn"
    text = dmn.read_text(encoding="utf-8")
    dmn.write_bytes(text.replace('encoding="UTF-8"', 'encoding="GBK"', 1).encode("gbk"))
    return folder / "case_transfer.bpmn"


def form_gbk(folder: Path) -> Path:
    form = folder / "forms" / "receipt.json"
    form.write_bytes(form.read_text(encoding="utf-8").encode("gbk"))
    return folder / "case_transfer.bpmn"


def form_is_directory(folder: Path) -> Path:
    form = folder / "forms" / "receipt.json"
    form.unlink()
    form.mkdir()
    return folder / "case_transfer.bpmn"


def form_boolean_schema(folder: Path) -> Path:
    """`true` is a valid JSON Schema (it accepts anything) but not an object form."""
    (folder / "forms" / "receipt.json").write_text("true", encoding="utf-8")
    return folder / "case_transfer.bpmn"


def bpmn_missing(folder: Path) -> Path:
    return folder / "no_such_mechanism.bpmn"


def dmn_path(folder: Path) -> Path:
    return folder / "criminal_threshold.dmn"


def xml_suffix(folder: Path) -> Path:
    path = folder / "case_transfer.xml"
    shutil.copy(folder / "case_transfer.bpmn", path)
    return path


@dataclass(frozen=True)
class Broken:
    break_it: Callable[[Path], Path]
    file: str                         # the file the error must name (relative to the folder)
    reason: tuple[str, ...]           # words the reason must contain
    element: str | None = None
    line: int | Callable[[], int] | None = None


BROKEN = [
    pytest.param(Broken(truncate, "case_transfer.bpmn", ("malformed XML",), line=62), id="truncated_xml"),
    pytest.param(Broken(mismatched_tag, "case_transfer.bpmn", ("malformed XML", "userTsk"),
                        line=lambda: mismatched_tag.line), id="mismatched_tag"),
    pytest.param(Broken(bad_lane, "case_transfer.bpmn", ("samr.boss",), element="decide_transfer"),
                 id="lane_not_agency_role"),
    pytest.param(Broken(task_outside_lanes, "case_transfer.bpmn", ("lane",), element="acknowledge_decision"),
                 id="user_task_outside_lanes"),
    pytest.param(Broken(no_form_property, "case_transfer.bpmn", ("form",), element="acknowledge_decision"),
                 id="user_task_without_form"),
    pytest.param(Broken(form_name_not_snake_case, "forms/../receipt.json", ("../receipt", "snake_case"),
                        element="accept_receipt"), id="form_name_not_snake_case"),
    pytest.param(Broken(form_missing, "forms/police_review.json", ("police_review", "does not exist"),
                        element="review_case"), id="form_file_missing"),
    pytest.param(Broken(form_bad_json, "forms/receipt.json", ("invalid JSON",)), id="form_invalid_json"),
    pytest.param(Broken(form_bad_schema, "forms/receipt.json", ("JSON Schema", "properties/received/type", "5")),
                 id="form_invalid_schema"),
    pytest.param(Broken(form_not_object, "forms/receipt.json", ("object",)), id="form_not_object"),
    pytest.param(Broken(bad_deadline, "case_transfer.bpmn", ("deadline", "3x"), element="decide_transfer"),
                 id="bad_deadline_rule"),
    pytest.param(Broken(bad_handoff, "case_transfer.bpmn", ("handoff", "sideways"),
                        element="approve_outgoing_handoff"), id="bad_handoff"),
    pytest.param(Broken(no_payload, "case_transfer.bpmn", ("transfer_sent", "payload"), element="send_transfer"),
                 id="throw_without_payload"),
    pytest.param(Broken(empty_payload, "case_transfer.bpmn", ("filing_decided", "payload"),
                        element="send_filing_decision"), id="throw_with_empty_payload"),
    pytest.param(Broken(message_end_without_payload, "case_transfer.bpmn", ("filing_decided", "payload"),
                        element="transfer_refused"), id="message_end_event_without_payload"),
    pytest.param(Broken(implicit_merge, "case_transfer.bpmn", ("userTask", "merges 2", "gateway before it"),
                        element="decide_transfer", line=lambda: implicit_merge.line), id="implicit_merge"),
    pytest.param(Broken(gateway_joins_and_forks, "case_transfer.bpmn", ("joins 2", "splits into 3"),
                        element="await_police"), id="gateway_joins_and_forks"),
    pytest.param(Broken(implicit_split, "case_transfer.bpmn", ("userTask", "splits into 2", "gateway after it"),
                        element="decide_transfer"), id="implicit_split"),
    pytest.param(Broken(unknown_decision, "case_transfer.bpmn", ("criminal_threshold_v9", "not found")),
                 id="unknown_decision"),
    pytest.param(Broken(dmn_truncated, "criminal_threshold.dmn", ("malformed XML",), line=20),
                 id="dmn_truncated"),
    pytest.param(Broken(two_collaborations, "case_transfer.bpmn", ("collaboration", "found 2")),
                 id="two_collaborations"),
    pytest.param(Broken(no_collaboration, "case_transfer.bpmn", ("collaboration", "found 0")),
                 id="no_collaboration"),
    pytest.param(Broken(dmn_path, "criminal_threshold.dmn", (".bpmn",)), id="dmn_path"),
    pytest.param(Broken(xml_suffix, "case_transfer.xml", (".bpmn",)), id="not_bpmn_suffix"),
    pytest.param(Broken(bpmn_missing, "no_such_mechanism.bpmn", ("cannot read",)), id="bpmn_missing"),
    pytest.param(
        Broken(form_gbk, "forms/receipt.json", ("receipt",)), id="form_not_utf8",
    ),
    pytest.param(
        Broken(form_is_directory, "forms/receipt.json", ("receipt",)), id="form_is_directory",
    ),
    pytest.param(
        Broken(form_boolean_schema, "forms/receipt.json", ("object",)), id="form_boolean_schema",
    ),
    pytest.param(
        Broken(dmn_gbk, "criminal_threshold.dmn", ("criminal_threshold",)), id="dmn_not_utf8",
    ),
    pytest.param(
        Broken(whitespace_payload, "case_transfer.bpmn", ("filing_decided", "payload"),
               element="send_filing_decision"), id="throw_with_blank_payload",
    ),
]


@pytest.mark.parametrize("case", BROKEN)
def test_broken_input_is_refused_by_name_and_changes_nothing(session, users, folder, case):
    path = case.break_it(folder)
    before = snapshot(session)

    with pytest.raises(engine.DeployError) as caught:
        engine.deploy_paths(session, [path], users["admin"])
    error = caught.value

    expected_file = folder / case.file
    assert Path(error.file) == expected_file
    assert str(expected_file) in error.message
    for word in case.reason:
        assert word in error.reason, f"{word!r} not in reason {error.reason!r}"
        assert word in error.message
    if case.element is not None:
        assert error.element == case.element
        assert f"[{case.element}]" in error.message
    if case.line is not None:
        line = case.line() if callable(case.line) else case.line
        assert error.line == line
        assert f"{expected_file}:{line}" in error.message
    # Its HTTP status (400) is web/errors.py's business: tests/web/test_error_statuses.py.
    assert isinstance(error, engine.EngineError) and not hasattr(error, "status")

    assert snapshot(session) == before
    assert engine.verify_audit(session) == []


def test_unknown_decision_names_the_business_rule_task(session, users, folder):
    path = unknown_decision(folder)
    with pytest.raises(engine.DeployError) as caught:
        engine.deploy_paths(session, [path], users["admin"])
    assert caught.value.element == "assess_threshold"


def test_good_and_bad_file_in_one_batch_deploy_nothing(session, users, folder, tmp_path):
    other = tmp_path / "other"
    (other / "forms").mkdir(parents=True)
    shutil.copy(FIXTURES / "message_sender.bpmn", other)
    shutil.copy(FIXTURES / "forms" / "note.json", other / "forms")
    good = other / "message_sender.bpmn"
    bad = bad_lane(folder)
    before = snapshot(session)

    for batch in ([good, bad], [bad, good]):
        with pytest.raises(engine.DeployError) as caught:
            engine.deploy_paths(session, batch, users["admin"])
        assert caught.value.element == "decide_transfer"
        assert snapshot(session) == before
    assert latest(session, "message_sender") is None

    # The good file was not the problem: alone it deploys.
    [result] = engine.deploy_paths(session, [good], users["admin"])
    assert result.created and result.model.key == "message_sender"


def test_same_new_version_twice_in_one_batch_is_written_once(session, users, folder, tmp_path):
    edit_form(folder / "forms" / "receipt.json", lambda s: s.update(title="移送案件回执（新）"))
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    before = snapshot(session)

    results = engine.deploy_paths(
        session, [folder / "case_transfer.bpmn", copy / "case_transfer.bpmn"], users["admin"]
    )

    assert [r.created for r in results] == [True, False]
    assert results[0].model.id == results[1].model.id
    models, events, _ = snapshot(session)
    assert len(models) == len(before[0]) + 1 and events == before[1] + 1


# --------------------------------------------------------------------------- versions


def test_redeploying_the_unchanged_folder_creates_nothing(session, users, folder):
    seeded = latest(session)
    assert SHA256_HEX.fullmatch(seeded.version)
    before = snapshot(session)

    [result] = engine.deploy_paths(session, [folder / "case_transfer.bpmn"], users["admin"])

    assert result.created is False
    assert result.model.id == seeded.id and result.model.version == seeded.version
    assert snapshot(session) == before
    # The folder's location is not part of the version: real folder and copy are the same.
    [again] = engine.deploy_paths(session, [WORKFLOWS / "case_transfer.bpmn"])
    assert (again.created, again.model.id) == (False, seeded.id)
    assert snapshot(session) == before


def test_changed_form_makes_a_new_version_and_old_instances_keep_theirs(session, users, folder, clock):
    handler = users["samr_handler"]
    old_model = latest(session)
    old_case = engine.create_case(session, handler, "变更前立案的案件")
    act(session, handler, old_case.id, "register_facts", FACTS_500K)
    assert instance_of(session, old_case.id).process_model_id == old_model.id
    before = snapshot(session)

    clock.advance(minutes=5)
    edit_form(folder / "forms" / "transfer_decision.json", lambda s: s.update(title="移送审批（第二版）"))
    [result] = engine.deploy_paths(session, [folder / "case_transfer.bpmn"], users["admin"])

    new_model = result.model
    assert result.created is True
    assert new_model.key == KEY and new_model.id != old_model.id
    assert SHA256_HEX.fullmatch(new_model.version) and new_model.version != old_model.version
    assert new_model.forms["transfer_decision"]["title"] == "移送审批（第二版）"
    assert old_model.forms["transfer_decision"]["title"] != "移送审批（第二版）"
    assert new_model.deployed_by_id == users["admin"].id
    assert new_model.deployed_at == clock.now()

    models_after, events_after, _ = snapshot(session)
    assert models_after == before[0] + [(new_model.id, KEY, new_model.version)]
    assert events_after == before[1] + 1
    deployed = system_events(session)[-1]
    assert deployed.event_type == "process_model_deployed"
    assert deployed.case_id is None and deployed.actor_id == users["admin"].id
    assert deployed.detail == {"key": KEY, "version": new_model.version, "id": new_model.id}

    # Deploying the changed folder again is a no-op.
    [again] = engine.deploy_paths(session, [folder / "case_transfer.bpmn"], users["admin"])
    assert (again.created, again.model.id) == (False, new_model.id)

    # A case opened now runs the new version ...
    new_case = engine.create_case(session, handler, "变更后立案的案件")
    assert instance_of(session, new_case.id).process_model_id == new_model.id

    # ... while the old case stays on the version it started on, to the end.
    act(session, users["samr_head"], old_case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], old_case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    act(session, users["police_liaison"], old_case.id, "accept_receipt", RECEIPT)
    act(session, users["police_handler"], old_case.id, "review_case", REVIEW_FILE)
    act(session, users["police_head"], old_case.id, "decide_filing", FILE)
    notify_filing(session, users, old_case.id)
    hand_over(session, users, old_case.id)
    old_instance = instance_of(session, old_case.id)
    assert old_instance.process_model_id == old_model.id
    assert old_instance.status == "completed"

    assert engine.verify_audit(session) == []
