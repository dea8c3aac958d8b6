"""The access policy as a table: every action on every kind of resource, for one user of each
role in each relation to the case (same agency or other party, assigned or not; an agency that
observes it, copied on the transfer; an agency not party to it; supervisor; administrator),
allowed exactly for the users listed.

The world is built once per module through the engine's own service functions: a transfer case
taken to the police head's filing decision (the procuratorate observes it from the letter on),
a secret case and a case waiting at the outgoing handoff (neither reached the procuratorate),
a secret case sent to the police and not filed (the procuratorate is copied on it, and reads
the documents the law copies to it, nothing else), and evidence items with signed and pending
handoffs.
"""
from __future__ import annotations

import io
import shutil
from types import SimpleNamespace

import pytest
from sqlalchemy import select

import engine
from engine import policy
from models import Agency, Document, EvidenceCustody, HumanTask, User, make_engine, make_session_factory
from tests.conftest import START, password_for
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    NOT_FILE,
    RECEIPT,
    REVIEW_FILE,
    act,
    open_task,
    police_decide,
    transferred,
)

SAMR = {"samr_handler", "samr_handler2", "samr_head", "samr_head2", "samr_liaison", "samr_liaison2"}
POLICE = {"police_handler", "police_handler2", "police_head", "police_head2", "police_liaison",
          "police_liaison2"}
PARTY = SAMR | POLICE
# Copied on the main case's transfer letter: an observer of it, no party to the other cases.
OBSERVING = {"procuratorate_handler", "procuratorate_head", "procuratorate_liaison"}
OVERSEERS = {"office_supervisor", "admin"}
EVERYONE = PARTY | OBSERVING | OVERSEERS
NONE: set[str] = set()
# Who is assigned to the main case: claimed or completed one of its tasks.
ASSIGNED = {"samr_handler", "samr_head", "samr_liaison", "police_liaison", "police_handler", "police_head"}
# The secret case sent to the police and not filed: the same users took its steps.
SECRET_SENT_ASSIGNED = ASSIGNED

# (action, resource) -> the users allowed; everyone else is denied.
TABLE: dict[tuple[str, str], set[str]] = {
    ("start_case", "none"): {"samr_handler", "samr_handler2"},
    ("administer", "none"): {"admin"},
    ("view_case", "case"): PARTY | OBSERVING | OVERSEERS,
    # The observer reads the decisions and the documents, but drafts nothing on the case.
    ("view_case_content", "case"): PARTY | OBSERVING,
    ("view_case", "secret_case"): SAMR | OVERSEERS,
    ("view_case_content", "secret_case"): {"samr_handler"},
    ("generate_document", "case"): {u for u in PARTY if "liaison" not in u},
    ("generate_document", "secret_case"): {"samr_handler"},
    ("view_document", "document"): PARTY | OBSERVING,
    # decide_filing: police.head lane, claimed by police_head.
    ("view_task", "claimed_task"): PARTY | OBSERVING | OVERSEERS,
    ("view_task_content", "claimed_task"): PARTY | OBSERVING,
    ("claim", "claimed_task"): NONE,
    ("complete", "claimed_task"): {"police_head"},
    ("approve_handoff", "claimed_task"): NONE,
    ("unclaim", "claimed_task"): {"police_head", "police_liaison", "police_liaison2"},
    ("reassign", "claimed_task"): {"police_liaison", "police_liaison2"},
    # decide_transfer of the secret case: samr.head lane, nobody has claimed it.
    ("view_task", "unclaimed_task"): SAMR | OVERSEERS,
    ("view_task_content", "unclaimed_task"): {"samr_handler"},
    ("claim", "unclaimed_task"): {"samr_head", "samr_head2"},
    ("complete", "unclaimed_task"): NONE,
    ("unclaim", "unclaimed_task"): NONE,
    ("reassign", "unclaimed_task"): {"samr_liaison", "samr_liaison2"},
    # register_facts of the main case, completed by samr_handler.
    ("view_task", "completed_task"): PARTY | OBSERVING | OVERSEERS,
    ("view_task_content", "completed_task"): PARTY | OBSERVING,
    ("claim", "completed_task"): NONE,
    ("complete", "completed_task"): NONE,
    ("unclaim", "completed_task"): NONE,
    ("reassign", "completed_task"): NONE,
    # approve_outgoing_handoff of the third case, claimed by samr_liaison.
    ("approve_handoff", "handoff_task"): {"samr_liaison"},
    # Everyone holding a lane's role in an agency the diagrams route to (not the administrator).
    ("use_inbox", "none"): EVERYONE - {"admin"},
    # Each agency's liaisons grant and revoke its standing approvals of hand-offs.
    ("manage_standing_approvals", "none"): {u for u in EVERYONE if u.endswith(("liaison", "liaison2"))},
    ("complete", "handoff_task"): {"samr_liaison"},
    # extend_review of the main case: the police head's, open and unclaimed; not the observer's.
    ("claim", "police_task"): {"police_head", "police_head2"},
    ("view_task", "police_task"): PARTY | OBSERVING | OVERSEERS,
    # Parties' handlers only: an observer adds no evidence.
    ("add_evidence", "case"): {"samr_handler", "samr_handler2", "police_handler", "police_handler2"},
    ("add_evidence", "secret_case"): {"samr_handler", "samr_handler2"},
    # Confidential, owned by samr, released by samr_liaison and signed for by police_liaison.
    ("view_evidence", "shared_secret_item"): PARTY | OBSERVING | OVERSEERS,
    ("open_evidence", "shared_secret_item"): {"samr_handler", "samr_liaison", "police_handler",
                                              "police_liaison"},
    ("hand_over_evidence", "shared_secret_item"): {"samr_liaison", "samr_liaison2", "police_liaison",
                                                   "police_liaison2"},
    # Confidential, never handed over.
    ("view_evidence", "samr_secret_item"): PARTY | OBSERVING | OVERSEERS,
    # The observer never opens confidential evidence as such.
    ("open_evidence", "samr_secret_item"): {"samr_handler"},
    ("hand_over_evidence", "samr_secret_item"): {"samr_liaison", "samr_liaison2"},
    # Not confidential: every member of a party or observing agency, no overseer.
    ("open_evidence", "plain_item"): PARTY | OBSERVING,
    # Not flagged, but in a secret case everything is confidential.
    ("view_evidence", "secret_case_item"): SAMR | OVERSEERS,
    ("open_evidence", "secret_case_item"): {"samr_handler"},
    # Released by samr_liaison to the police, not yet signed for.
    ("receive_evidence", "pending_handoff"): {"police_liaison", "police_liaison2"},
    # Supervision (deadlines and timelines, no content): overseers everywhere, agency heads for
    # the cases that reached their agency.
    ("supervise", "none"): OVERSEERS | {"samr_head", "samr_head2", "police_head", "police_head2",
                                        "procuratorate_head"},
    # The observing procuratorate's head reads the case's own page, not its agency's supervision.
    ("supervise_case", "case"): OVERSEERS | {"samr_head", "samr_head2", "police_head", "police_head2"},
    ("supervise_case", "secret_case"): OVERSEERS | {"samr_head", "samr_head2"},
    # Results after filing: each stage by its agency's handlers and heads who read the case's content
    # (the court has no part in the main case); results are content; the owner's handlers and heads close.
    ("record_result", "case_investigation"): {"police_handler", "police_handler2", "police_head", "police_head2"},
    ("record_result", "case_prosecution"): {"procuratorate_handler", "procuratorate_head"},
    ("record_result", "case_judgment"): NONE,
    ("record_result", "secret_investigation"): NONE,
    ("view_results", "case"): PARTY | OBSERVING,
    ("view_results", "secret_case"): {"samr_handler"},
    ("close_case", "case"): {"samr_handler", "samr_handler2", "samr_head", "samr_head2"},
    ("close_case", "secret_case"): {"samr_handler"},
    # Statistics: the office's supervisor and administrators every agency, agency heads their own.
    ("view_statistics", "none"): OVERSEERS | {"samr_head", "samr_head2", "police_head", "police_head2",
                                              "procuratorate_head"},
    # Rights holders are case content; the parties' handlers record them, an observer reads only.
    ("view_rights_holders", "case"): PARTY | OBSERVING,
    ("view_rights_holders", "secret_case"): {"samr_handler"},
    ("manage_rights_holders", "case"): {"samr_handler", "samr_handler2", "police_handler", "police_handler2"},
    ("manage_rights_holders", "secret_case"): {"samr_handler"},
    # A notice SAMR issued to a holder of the main case: SAMR records its delivery.
    ("record_delivery", "samr_notice"): SAMR,
    # A secret case sent and not filed: its content is for the users assigned to it; the
    # procuratorate, copied on it, sees it and reads, through its liaison, what the law copies to it.
    ("view_case", "secret_sent"): PARTY | OBSERVING | OVERSEERS,
    ("view_case_content", "secret_sent"): SECRET_SENT_ASSIGNED,
    ("view_document", "secret_letter"): SECRET_SENT_ASSIGNED | {"procuratorate_liaison"},
    ("view_document", "secret_non_filing_notice"): SECRET_SENT_ASSIGNED | {"procuratorate_liaison"},
    ("view_document", "secret_returned_files"): SECRET_SENT_ASSIGNED | {"procuratorate_liaison"},
    # The police's receipt is not copied to the procuratorate.
    ("view_document", "secret_receipt"): SECRET_SENT_ASSIGNED,
    # Read only as the copy (recorded as a reading of confidential material): its liaison alone.
    ("read_document_as_copy", "secret_letter"): {"procuratorate_liaison"},
    ("read_document_as_copy", "secret_receipt"): NONE,
    ("view_task_content", "secret_decision"): SECRET_SENT_ASSIGNED,
    ("view_results", "secret_sent"): SECRET_SENT_ASSIGNED,
    ("view_rights_holders", "secret_sent"): SECRET_SENT_ASSIGNED,
    ("open_evidence", "secret_sent_item"): {"samr_handler"},
    # A consultation's action item samr_handler recorded in the minutes: withdrawn by its recorder
    # or a liaison of the convening agency who may work on the case (none is assigned to the secret one).
    ("withdraw_action_item", "action_item"): {"samr_handler", "samr_liaison", "samr_liaison2"},
    ("withdraw_action_item", "secret_action_item"): {"samr_handler"},
}
EXTRA_USERS = [(f"{agency}_{role}2", agency, role) for agency in ("samr", "police")
               for role in ("head", "liaison")] + [("police_handler2", "police", "handler")]
ROWS = [(action, resource, username, username in allowed)
        for (action, resource), allowed in TABLE.items() for username in sorted(EVERYONE)]


def _evidence(session, store, user, case_id, confidential, content=b"%PDF-1.4 test\n"):
    fields = {"kind": "documentary", "description": "配方文件", "source": "权利人提交",
              "collected_at": START, "collector_1": "王承办", "collector_2": "李承办",
              "confidential": confidential}
    return engine.add_evidence(session, store, user, case_id, fields, io.BytesIO(content), "配方.pdf")


@pytest.fixture(scope="module")
def world(sqlite_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("policy")
    shutil.copy(sqlite_template, folder / "db.sqlite")
    sql_engine = make_engine(f"sqlite:///{folder / 'db.sqlite'}")
    factory = make_session_factory(sql_engine)
    factory.configure(info={"clock": engine.FixedClock(START)})
    store = engine.EvidenceStore(folder / "evidence", 1024 * 1024)
    s = factory()
    for username, agency, role in EXTRA_USERS:
        engine.create_user(s, username, password_for(username), username, agency, [role])
    u = {x.username: x for x in s.scalars(select(User))}

    case = engine.create_case(s, u["samr_handler"], "主案件")
    act(s, u["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(s, u["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(s, u["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    act(s, u["police_liaison"], case.id, "accept_receipt", RECEIPT)
    act(s, u["police_handler"], case.id, "review_case", REVIEW_FILE)
    engine.claim_task(s, u["police_head"], open_task(s, case.id, "decide_filing").id)

    secret = engine.create_case(s, u["samr_handler"], "涉密案件", "secret")
    act(s, u["samr_handler"], secret.id, "register_facts", FACTS_500K)

    handoff_case = engine.create_case(s, u["samr_handler"], "待移交案件")
    act(s, u["samr_handler"], handoff_case.id, "register_facts", FACTS_500K)
    act(s, u["samr_head"], handoff_case.id, "decide_transfer", APPROVE_TRANSFER)
    engine.claim_task(s, u["samr_liaison"], open_task(s, handoff_case.id, "approve_outgoing_handoff").id)

    shared = _evidence(s, store, u["samr_handler"], case.id, True)
    custody = engine.hand_over_evidence(s, store, u["samr_liaison"], shared.id, "police")
    engine.receive_evidence(s, store, u["police_liaison"], custody.id)
    samr_only = _evidence(s, store, u["samr_handler"], case.id, True)
    plain = _evidence(s, store, u["samr_handler"], case.id, False)
    in_secret = _evidence(s, store, u["samr_handler"], secret.id, False)
    pending_item = _evidence(s, store, u["samr_handler"], case.id, True)
    pending = engine.hand_over_evidence(s, store, u["samr_liaison"], pending_item.id, "police")

    secret_sent = transferred(s, u, "涉密移送案件", "secret")
    police_decide(s, u, secret_sent.id, NOT_FILE)
    secret_sent_item = _evidence(s, store, u["samr_handler"], secret_sent.id, False)
    document_id = lambda c, kind: s.scalar(select(Document.id).where(  # noqa: E731
        Document.case_id == c.id, Document.kind == kind))

    task_id = lambda c, bpmn: s.scalar(select(HumanTask.id).where(  # noqa: E731
        HumanTask.case_id == c.id, HumanTask.bpmn_id == bpmn))
    ids = {
        "case": ("case", case.id), "secret_case": ("case", secret.id),
        "claimed_task": ("task", task_id(case, "decide_filing")),
        "unclaimed_task": ("task", task_id(secret, "decide_transfer")),
        "completed_task": ("task", task_id(case, "register_facts")),
        "handoff_task": ("task", task_id(handoff_case, "approve_outgoing_handoff")),
        "police_task": ("task", task_id(case, "extend_review")),
        "shared_secret_item": ("evidence", shared.id), "samr_secret_item": ("evidence", samr_only.id),
        "plain_item": ("evidence", plain.id), "secret_case_item": ("evidence", in_secret.id),
        "pending_handoff": ("custody", pending.id), "document": ("document", case.id),
        "case_investigation": ("result", (case.id, "investigation")),
        "case_prosecution": ("result", (case.id, "prosecution")),
        "case_judgment": ("result", (case.id, "judgment")),
        "secret_investigation": ("result", (secret.id, "investigation")),
        "samr_notice": ("notice", case.id),
        "action_item": ("action_item", (case.id, u["samr_handler"].id)),
        "secret_action_item": ("action_item", (secret.id, u["samr_handler"].id)),
        "secret_sent": ("case", secret_sent.id),
        "secret_letter": ("stored_document", document_id(secret_sent, "transfer_letter")),
        "secret_non_filing_notice": ("stored_document", document_id(secret_sent, "non_filing_notice")),
        "secret_returned_files": ("stored_document", document_id(secret_sent, "returned_materials_receipt")),
        "secret_receipt": ("stored_document", document_id(secret_sent, "receipt")),
        "secret_decision": ("task", task_id(secret_sent, "decide_filing")),
        "secret_sent_item": ("evidence", secret_sent_item.id),
    }
    assert all(key for _, key in ids.values()), "every resource of the table exists"
    s.close()
    yield factory, ids
    sql_engine.dispose()


def _resource(session, ids, name):
    if name == "none":
        return None
    kind, key = ids[name]
    if kind == "document":  # the policy reads only the document's case
        return SimpleNamespace(case_id=key)
    if kind == "notice":  # and, for a holder's notice, its issuing agency
        return SimpleNamespace(case_id=key,
                               issuing_agency_id=session.scalar(select(Agency.id).where(Agency.code == "samr")))
    if kind == "action_item":  # the policy reads only the item's case and who recorded it
        return SimpleNamespace(case_id=key[0], created_by_id=key[1])
    if kind == "result":  # a stage of a case's results
        return session.get(engine.oversight.queries.Case, key[0]), key[1]
    model = {"stored_document": Document, "case": engine.oversight.queries.Case, "task": HumanTask, "evidence": engine.casework.evidence.EvidenceItem,
             "custody": EvidenceCustody}[kind]
    return session.get(model, key)


def test_the_table_covers_every_action_and_every_relation():
    assert {action for action, _ in TABLE} == set(policy.ACTIONS)
    assert ASSIGNED < PARTY and len(EVERYONE) == 17


@pytest.mark.parametrize("action, resource, username, expected", ROWS,
                         ids=[f"{a}-{r}-{u}" for a, r, u, _ in ROWS])
def test_policy(world, action, resource, username, expected):
    factory, ids = world
    with factory() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert policy.allowed(session, user, action, _resource(session, ids, resource)) is expected


def test_unknown_action_is_a_programming_error(world):
    factory, _ = world
    with factory() as session, pytest.raises(KeyError):
        policy.allowed(session, session.scalar(select(User)), "fly", None)
