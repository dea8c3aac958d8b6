"""The inbox merges each lane's unclaimed work and the user's own work into one order: the same
tasks, order, pages and totals as sorting all matching tasks at once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError

from engine import InboxFilter, claim_task, create_case, inbox
from engine.oversight.queries import _inbox_shape, _inbox_statements
from models import HumanTask, Membership
from tests.helpers import FACTS_500K, act, open_task


def expected(session, user, view: str, narrow: InboxFilter) -> list[int]:
    """The inbox computed the plain way: every open task, filtered and sorted in Python."""
    lanes = {(m.agency_id, m.role) for m in user.memberships}
    rows = []
    for t in session.scalars(select(HumanTask).where(HumanTask.state == "open")):
        mine = t.assignee_id == user.id
        claimable = t.assignee_id is None and (t.agency_id, t.role) in lanes
        if not {"all": mine or claimable, "mine": mine, "claimable": claimable}[view]:
            continue
        if narrow.due == "none" and t.due_at is not None:
            continue
        rows.append(t)
    # Python's sort is stable (also with reverse=True): by (created_at, id) first, then by deadline.
    with_due = sorted(sorted((t for t in rows if t.due_at), key=lambda t: (t.created_at, t.id)),
                      key=lambda t: t.due_at, reverse=narrow.sort == "-due")
    without = sorted((t for t in rows if t.due_at is None), key=lambda t: (t.created_at, t.id))
    return [t.id for t in with_due + without]


def test_merged_lanes_and_mine_page_like_one_sorted_list(session, users, clock):
    handler, other = users["samr_handler"], users["samr_handler2"]
    cases = []
    for n in range(7):
        cases.append(create_case(session, other, f"案件{n}"))
        clock.advance(hours=5)
    # Two cases move on to the head's lane; the handler also works in that lane.
    for case in cases[:2]:
        act(session, other, case.id, "register_facts", FACTS_500K)
    session.add(Membership(user_id=handler.id, agency_id=handler.memberships[0].agency_id, role="head"))
    session.commit()
    session.refresh(handler)
    # Some claimed by the handler, one by someone else; deadlines interleaved, some missing, ties.
    for case in cases[2:4]:
        claim_task(session, handler, open_task(session, case.id, "register_facts").id)
    claim_task(session, other, open_task(session, cases[4].id, "register_facts").id)
    base = clock.now()
    dues = [base + timedelta(days=3), None, base + timedelta(days=1), base + timedelta(days=3), None,
            base - timedelta(days=2), base + timedelta(days=1), base + timedelta(days=9), None]
    tasks = session.scalars(select(HumanTask).where(HumanTask.state == "open").order_by(HumanTask.id)).all()
    for task, due in zip(tasks, dues, strict=False):
        task.due_at = due
    session.commit()

    for view in ("all", "mine", "claimable"):
        for narrow in (InboxFilter(), InboxFilter(sort="-due"), InboxFilter(due="none", now=base)):
            want = expected(session, handler, view, narrow)
            assert inbox(session, handler, view, narrow=narrow).total == len(want)
            got = []
            for page in range(1, 5):
                result = inbox(session, handler, view, page=page, per_page=2, narrow=narrow)
                assert result.total == len(want) and result.pages == max(1, -(-len(want) // 2))
                got += [t.id for t in result.items]
            assert got == want, (view, narrow)
    assert len(expected(session, handler, "all", InboxFilter())) >= 6


def test_one_built_statement_serves_each_user_with_their_own_values(session, users):
    """The inbox statements are built once per shape (engine/oversight/queries.py) and shared by every
    user of that shape: each call must still get its own user's lane and work."""
    samr, police = users["samr_handler"], users["police_handler"]
    case = create_case(session, samr, "共享语句")
    # Same shape (view, one lane, no filter) for both users; different agencies.
    assert [t.bpmn_id for t in inbox(session, samr, "claimable").items] == ["register_facts"]
    assert inbox(session, police, "claimable").items == []
    claim_task(session, samr, open_task(session, case.id, "register_facts").id)
    assert [t.case_id for t in inbox(session, samr, "mine").items] == [case.id]
    assert inbox(session, police, "mine").total == 0


def test_a_shared_statement_refuses_to_run_without_a_value():
    """A value left out fails loudly instead of reusing whoever built the statement's."""
    count, _rows = _inbox_statements(_inbox_shape("mine", 0, InboxFilter(), None))
    with pytest.raises(InvalidRequestError, match="user_id"):
        count.compile().construct_params({})
