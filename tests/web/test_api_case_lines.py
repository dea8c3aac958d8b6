"""The API's case is read as lines (engine/oversight/case_reads.py `visible_case` with `lines`: its
columns and its participants' in one statement) and its access decided on those lines: for every
user and case, it answers exactly when the entity-based rule (`policy.can_view_case`) lets the user
see the case, and then with the answer its entities give."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import engine
from engine.access import policy
from engine.access.policy.cases import can_view_case_among
from models import Case, User
from tests.helpers import transferred
from web.api import dumps, schemas
from web.api.cases import CaseView
from web.db import db

from .api_helpers import ApiClient


def test_the_case_lines_answer_as_its_entities_for_whoever_may_see_it(app):
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        # Parties (SAMR, the police it was sent to) and an observer (the procuratorate, copied on it).
        sent = transferred(session, users).id
        secret = transferred(session, users, "某涉密案", confidentiality="secret").id
        fresh = engine.open_case(session, users["samr_handler"], "刚立之案", "confidential").case.id
        session.commit()
    cases = (sent, secret, fresh)
    seen_by = {case_id: set() for case_id in cases}
    for username in sorted(users):
        client = ApiClient(app, username)
        for case_id in cases:
            answer = client.get(f"/cases/{case_id}")
            with app.app_context():
                session = db.session
                user = session.scalar(select(User).where(User.username == username))
                case = session.get_one(Case, case_id)
                # The rule on the entity as read alone (its participants by SQL), and as the case
                # page reads it (participants loaded with it): the same decision as the lines'.
                may = policy.can_view_case(session, user, case)
                loaded = session.scalar(select(Case).where(Case.id == case_id)
                                        .options(selectinload(Case.participants))
                                        .execution_options(populate_existing=True))
                assert policy.can_view_case(session, user, loaded) is may
                assert can_view_case_among(user, list(loaded.participants)) is may, (username, case_id)
                assert answer.status_code == (200 if may else 404), (username, case_id)
                if may:
                    seen_by[case_id].add(username)
                    expected = schemas.CaseDetail().dump(CaseView(case))
                    assert answer.get_json() == expected == dumps.case_detail(CaseView(case))
    # Each kind of reader is there: owner, party, observer and overseer; and outsiders are not.
    for case_id in (sent, secret):
        assert {"samr_handler", "police_liaison", "procuratorate_liaison", "office_supervisor"} <= seen_by[case_id]
    assert "police_liaison" not in seen_by[fresh] and "procuratorate_liaison" not in seen_by[fresh]
    assert seen_by[sent] == seen_by[secret] and seen_by[fresh] < seen_by[sent]
