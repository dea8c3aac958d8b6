"""Documents issued on task completion: conditions, per-agency yearly numbering, fixed content."""
from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import (
    DeployError,
    FixedClock,
    NotFound,
    claim_task,
    complete_task,
    create_case,
    deploy_paths,
)
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from engine.casework.documents import case_documents, open_document, parse_documents
from models import Document, User, make_engine, make_session_factory
from tests.conftest import START
from tests.helpers import act, event_types, open_task

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"


def decided(session, users, choice, title="文书"):
    handler = users["samr_handler"]
    case = create_case(session, handler, title)
    start_mechanism(session, handler, case.id, "document_issue")
    act(session, handler, case.id, "decide", {"choice": choice, "reasons": "理由"})
    return case


@pytest.fixture
def deployed(session):
    deploy_folder(session, FIXTURES)


def test_the_condition_picks_the_document_and_numbers_run_per_series(session, users, deployed):
    first = decided(session, users, "file")
    second = decided(session, users, "file")
    third = decided(session, users, "not_file")
    numbers = {d.case_id: (d.kind, d.number) for d in session.scalars(select(Document))}
    assert numbers == {
        first.id: ("filing_notice", "东公立〔2026〕1号"),
        second.id: ("filing_notice", "东公立〔2026〕2号"),
        third.id: ("non_filing_notice", "东公不立〔2026〕1号"),
    }
    assert "document_generated" in event_types(session, first.id)


def test_content_is_fixed_at_issue(session, users, deployed):
    case = decided(session, users, "not_file")
    document = session.scalars(select(Document)).one()
    assert document.content["title"] == "不予立案通知书"
    assert document.content["steps"]["decide"] == {"choice": "not_file", "reasons": "理由"}
    assert document.content["recipient"] == "聊城市东昌府区市场监督管理局"
    case.title = "后来改名"
    session.commit()
    assert open_document(session, users["samr_handler"], document.id).content["case"]["title"] == "文书"


def test_reading_is_audited_and_limited_to_who_may_read_the_case(session, users, deployed):
    case = decided(session, users, "file")
    document = session.scalars(select(Document)).one()
    assert [d.id for d in case_documents(session, users["samr_head"], case.id)] == [document.id]
    for outsider in ("police_handler", "court_handler"):
        assert case_documents(session, users[outsider], case.id) == []
        with pytest.raises(NotFound):
            open_document(session, users[outsider], document.id)
    open_document(session, users["samr_head"], document.id)
    assert event_types(session, case.id)[-1] == "document_viewed"


def test_a_new_year_starts_at_one(session, users, deployed, clock):
    decided(session, users, "file")
    clock.advance(days=366)
    decided(session, users, "file")
    assert sorted(session.scalars(select(Document.number))) == ["东公立〔2026〕1号", "东公立〔2027〕1号"]


@pytest.mark.parametrize("value, reason", [
    ("warrant", "unknown document kind 'warrant'"),
    ("filing_notice if choice ==", "is not an expression"),
    (" ; ", "empty"),
])
def test_bad_documents_property_is_refused_at_deploy(session, tmp_path, value, reason):
    with pytest.raises(ValueError, match=reason):
        parse_documents(value)
    folder = tmp_path / "wf"
    shutil.copytree(FIXTURES, folder)
    path = folder / "document_issue.bpmn"
    source = path.read_text(encoding="utf-8")
    start = source.index('name="documents" value="') + len('name="documents" value="')
    end = source.index('"', start)
    path.write_text(source[:start] + value + source[end:], encoding="utf-8")
    with pytest.raises(DeployError) as err:
        deploy_paths(session, [path])
    assert err.value.element == "decide" and reason in err.value.reason


def test_simultaneous_issues_never_share_a_number(pg_database_url):
    engine = make_engine(pg_database_url, pool_size=10)
    factory = make_session_factory(engine)
    factory.configure(info={"clock": FixedClock(START)})
    with factory() as s:
        deploy_folder(s, FIXTURES)
        users = {u.username: u for u in s.scalars(select(User))}
        cases = []
        for _ in range(10):
            case = create_case(s, users["samr_handler"], "并发文书")
            start_mechanism(s, users["samr_handler"], case.id, "document_issue")
            cases.append(case.id)
            claim_task(s, users["samr_handler"], open_task(s, case.id, "decide").id)
    barrier = threading.Barrier(10)

    def complete(case_id):
        with factory() as s:
            handler = s.scalars(select(User).where(User.username == "samr_handler")).one()
            task = open_task(s, case_id, "decide")
            barrier.wait()
            complete_task(s, handler, task.id, {"choice": "file"})

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(complete, cases))
    with factory() as s:
        numbers = sorted(s.scalars(select(Document.number)))
    assert numbers == sorted(f"东公立〔2026〕{n}号" for n in range(1, 11))
    engine.dispose()
