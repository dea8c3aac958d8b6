"""An audit trail an outsider can trust: chains keyed with an HMAC key kept out of the database,
checkpoints of their heads kept outside it, and `liandong audit verify` catching each tampering
that a plain hash chain let through (events cut off the end with the head moved back, a case's
whole chain deleted with its head, an edited event with every later hash recomputed)."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading

import pytest
from sqlalchemy import select, text

import engine
from bench.servers import free_port
from engine.access.audit_hash import GENESIS, event_hash
from models import SYSTEM_CHAIN, AuditChain, AuditEvent, HumanTask, User, case_chain
from tests.helpers import APPROVE_TRANSFER, FACTS_500K, act
from web import create_app
from web.cli import run_worker
from web.db import db

KEY = "k" * 16 + "audit-key-for-tests-0123456789"


@pytest.fixture
def app(database_url, clock, tmp_path, monkeypatch):
    """The test app with an audit key, its seeded (unkeyed) chains sealed as an operator would
    after configuring the key."""
    monkeypatch.setenv("LIANDONG_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"DATABASE_URL": database_url, "CLOCK": clock, "SECRET_KEY": "s", "TESTING": True,
                      "INSTANCE_PATH": str(tmp_path / "instance"), "AUDIT_KEY": KEY})
    sealed = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert sealed.exit_code == 0 and "sealed" in sealed.output
    yield app
    db.state(app).engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def case_id(app):
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = engine.create_case(session, users["samr_handler"], "密钥审计测试")
        act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
        act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
        return case.id


def run(app, *statements: tuple[str, dict]) -> None:
    with db.new_session(app) as session:
        for sql, params in statements:
            session.execute(text(sql), params)
        session.commit()


def events(app, chain: str) -> list[AuditEvent]:
    with db.new_session(app) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)).all()
        session.expunge_all()
        return rows


def verify(runner, *args: str):
    return runner.invoke(args=["audit", "verify", *args])


def test_a_keyed_chain_verifies_and_its_hashes_need_the_key(app, runner, case_id):
    assert verify(runner).output == "OK\n"
    chain = events(app, case_chain(case_id))
    assert all(event_hash(e, KEY.encode()) == e.hash != event_hash(e) for e in chain)
    with db.new_session(app) as session:
        head = session.get(AuditChain, case_chain(case_id))
        assert head.keyed_from == 1 and head.key_mac
        system = session.get(AuditChain, SYSTEM_CHAIN)
        assert system.keyed_from > 1  # sealed after its unkeyed seeding events
    # Without the key, or with another one, nothing can be verified or appended.
    for other in (None, "another-key-of-at-least-32-characters"):
        other_app = create_app({**app.config, "AUDIT_KEY": other})
        try:
            result = other_app.test_cli_runner().invoke(args=["audit", "verify", "--case", str(case_id)])
            assert result.exit_code == 1 and "audit key" in result.output
            with db.new_session(other_app) as session:
                liaison = session.scalar(select(User).where(User.username == "samr_liaison"))
                task = session.scalar(select(HumanTask).where(HumanTask.case_id == case_id,
                                                              HumanTask.state == "open"))
                with pytest.raises(engine.AuditKeyError):
                    engine.claim_task(session, liaison, task.id)
                assert session.get(HumanTask, task.id).assignee_id is None  # rolled back
        finally:
            db.state(other_app).engine.dispose()


def test_events_cut_off_with_the_head_moved_back_are_caught_by_a_checkpoint(app, runner, case_id, tmp_path):
    checkpoint = tmp_path / "checkpoints.txt"
    assert runner.invoke(args=["audit", "checkpoint", str(checkpoint)]).exit_code == 0
    chain = events(app, case_chain(case_id))
    keep = chain[-3]
    run(app, ("DELETE FROM audit_event WHERE chain = :c AND seq > :s", {"c": case_chain(case_id), "s": keep.seq}),
        ("UPDATE audit_chain SET last_seq = :s, last_hash = :h WHERE name = :c",
         {"s": keep.seq, "h": keep.hash, "c": case_chain(case_id)}))

    assert verify(runner).output == "OK\n", "a consistent truncation is invisible inside the database"
    result = verify(runner, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert f"case:{case_id}: event {chain[-1].seq}: the chain ends at event {keep.seq}" in result.output
    assert verify(runner, "--case", str(case_id), "--checkpoint", str(checkpoint)).exit_code == 1


def test_a_case_chain_deleted_with_its_head_is_missed(app, runner, case_id, tmp_path):
    checkpoint = tmp_path / "checkpoints.txt"
    runner.invoke(args=["audit", "checkpoint", str(checkpoint)])
    run(app, ("DELETE FROM audit_event WHERE chain = :c", {"c": case_chain(case_id)}),
        ("DELETE FROM audit_chain WHERE name = :c", {"c": case_chain(case_id)}))
    for args in ((), ("--case", str(case_id))):
        result = verify(runner, *args)
        assert result.exit_code == 1
        assert f"case:{case_id}: the chain of an existing case is missing" in result.output


def test_a_chain_deleted_without_a_case_to_miss_it_is_caught_by_a_checkpoint(app, runner, tmp_path):
    checkpoint = tmp_path / "checkpoints.txt"
    runner.invoke(args=["audit", "checkpoint", str(checkpoint)])
    last = events(app, SYSTEM_CHAIN)[-1].seq
    run(app, ("DELETE FROM audit_event WHERE chain = 'system'", {}), ("DELETE FROM audit_chain WHERE name = 'system'", {}))
    assert verify(runner).output == "OK\n"
    result = verify(runner, "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert f"system: event {last}: the chain is missing; the checkpoint recorded event {last}" in result.output


@pytest.mark.parametrize("rehash", ["sha256", "wrong_key"])
def test_an_edited_event_with_recomputed_hashes_is_caught(app, runner, case_id, rehash):
    chain = events(app, case_chain(case_id))
    victim = chain[3]
    forge_key = None if rehash == "sha256" else b"the attacker's guess of the key, 32+"
    prev = chain[2].hash
    statements = []
    for event in chain[3:]:
        if event.id == victim.id:
            event.event_type = "task_cancelled"
        event.prev_hash = prev
        event.hash = event_hash(event, forge_key)
        prev = event.hash
        statements.append(("UPDATE audit_event SET event_type = :t, prev_hash = :p, hash = :h WHERE id = :id",
                           {"t": event.event_type, "p": event.prev_hash, "h": event.hash, "id": event.id}))
    statements.append(("UPDATE audit_chain SET last_hash = :h WHERE name = :c", {"h": prev, "c": case_chain(case_id)}))
    run(app, *statements)

    result = verify(runner)
    assert result.exit_code == 1
    assert f"case:{case_id}: event {victim.seq} (id {victim.id}): content does not match its hash" in result.output


def test_rewriting_the_unkeyed_events_before_the_seal_is_caught(app, runner):
    chain = events(app, SYSTEM_CHAIN)
    with db.new_session(app) as session:
        keyed_from = session.get(AuditChain, SYSTEM_CHAIN).keyed_from
    # Rewrite every unkeyed event (plain SHA-256 can be recomputed by anyone) ...
    prev, statements = GENESIS, []
    for event in chain[:keyed_from - 1]:
        if event.seq == 2:
            event.detail = {**event.detail, "username": "forged"}
        event.prev_hash, event.hash = prev, event_hash(event)
        prev = event.hash
        statements.append(("UPDATE audit_event SET detail = :d, prev_hash = :p, hash = :h WHERE id = :id",
                           {"d": json.dumps(event.detail), "p": event.prev_hash, "h": event.hash,
                            "id": event.id}))
    run(app, *statements)
    # ... and the first keyed event no longer links to them, which without the key cannot be mended.
    with db.new_session(app) as session:
        if keyed_from - 1 < len(chain):
            first_keyed = chain[keyed_from - 1]
            session.execute(text("UPDATE audit_event SET prev_hash = :p WHERE id = :id"), {"p": prev, "id": first_keyed.id})
        else:
            session.execute(text("UPDATE audit_chain SET last_hash = :h WHERE name = 'system'"), {"h": prev})
        session.commit()
    result = verify(runner)
    assert result.exit_code == 1 and "system: event" in result.output


def test_an_unsealed_chain_is_not_accepted_under_a_key(app, runner, case_id):
    chain = events(app, case_chain(case_id))
    prev, statements = GENESIS, []
    for event in chain:  # the whole chain recomputed as plain SHA-256, the seal removed
        event.prev_hash, event.hash = prev, event_hash(event)
        prev = event.hash
        statements.append(("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :id",
                           {"p": event.prev_hash, "h": event.hash, "id": event.id}))
    statements.append(("UPDATE audit_chain SET last_hash = :h, keyed_from = NULL, key_mac = NULL WHERE name = :c",
                       {"h": prev, "c": case_chain(case_id)}))
    run(app, *statements)
    result = verify(runner)
    assert result.exit_code == 1 and f"case:{case_id}: the chain is not sealed with the audit key" in result.output


def test_checkpoints_are_printable_lines_appended_one_after_another(app, runner, case_id, tmp_path, clock):
    path = tmp_path / "checkpoints.txt"
    assert runner.invoke(args=["audit", "checkpoint", str(path)]).exit_code == 0
    clock.advance(hours=1)
    with db.new_session(app) as session:
        handler = session.scalar(select(User).where(User.username == "samr_handler"))
        engine.create_case(session, handler, "又一案")
    assert runner.invoke(args=["audit", "checkpoint", str(path)]).exit_code == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    headers = [line for line in lines if line.startswith("#")]
    assert len(headers) == 2 and headers[0].startswith("# liandong audit checkpoint 2026-03-02T01:00:00+00:00")
    assert f"case:{case_id} " in "\n".join(lines) and all(line.isprintable() for line in lines)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert verify(runner, "--checkpoint", str(path)).output == "OK\n"
    path.write_text("not a checkpoint\n", encoding="utf-8")
    bad = verify(runner, "--checkpoint", str(path))
    assert bad.exit_code == 2 and "line 1" in bad.stderr


def test_the_worker_writes_a_checkpoint_once_a_day(app, tmp_path, clock):
    path = tmp_path / "daily.txt"
    app.config["AUDIT_CHECKPOINT_FILE"] = str(path)
    run_worker(app, 0, threading.Event(), once=True)
    run_worker(app, 0, threading.Event(), once=True)  # a restarted worker reads when the last was
    assert path.read_text(encoding="utf-8").count("# liandong audit checkpoint") == 1
    clock.advance(days=1)
    run_worker(app, 0, threading.Event(), once=True)
    assert path.read_text(encoding="utf-8").count("# liandong audit checkpoint") == 2


class Sink:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, smtp_session, envelope):
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def test_a_checkpoint_can_be_mailed(app, runner, tmp_path):
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(MAIL_ENABLED=True, MAIL_HOST="127.0.0.1", MAIL_PORT=controller.port)
        result = runner.invoke(args=["audit", "checkpoint", str(tmp_path / "c.txt"), "--mail", "jiang@office.example"])
        assert result.exit_code == 0, result.output
    finally:
        controller.stop()
    [message] = sink.messages
    assert message["To"] == "jiang@office.example" and "system " in message.get_content()


def test_the_seal_is_an_hmac_of_the_chain_and_its_first_keyed_event(app):
    with db.new_session(app) as session:
        head = session.get(AuditChain, SYSTEM_CHAIN)
        expected = hmac.new(KEY.encode(), f"liandong-audit-seal:system:{head.keyed_from}".encode(),
                            hashlib.sha256).hexdigest()
        assert head.key_mac == expected
