"""A secret case sent to the police and not filed: the procuratorate, copied on it, reads through
its liaison the documents the law copies to it (the 移送书, the 不予立案通知书, the files returned),
each reading recorded as a reading of confidential material, and nothing else of the case."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import AuditEvent, Document, User
from tests.helpers import NOT_FILE, police_decide, transferred
from tests.web.api_helpers import ApiClient
from tests.web.test_evidence import upload
from web.db import db

from .helpers import text

COPIED = ("transfer_letter", "non_filing_notice", "returned_materials_receipt")


def _secret_case_not_filed(app) -> tuple[int, dict[str, int]]:
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case_id = transferred(session, users, "涉密配方案", "secret").id
        police_decide(session, users, case_id, NOT_FILE)
        documents = {d.kind: d.id for d in session.scalars(select(Document).where(Document.case_id == case_id))}
    return case_id, documents


def _views(app, case_id: int) -> list[dict]:
    with db.new_session(app) as session:
        return [e.detail for e in session.scalars(select(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.event_type == "document_viewed").order_by(AuditEvent.id))]


def test_the_observing_liaison_reads_the_copied_documents_of_a_secret_case_and_nothing_else(app, client_for):
    case_id, documents = _secret_case_not_filed(app)
    assert set(COPIED) | {"receipt"} <= set(documents)
    handler = client_for("samr_handler")
    assert upload(handler, case_id, confidential="false").status_code == 303
    evidence = re.findall(r'data-evidence="(\d+)"', text(handler.get(f"/cases/{case_id}")))

    liaison = client_for("procuratorate_liaison")
    page = text(liaison.get(f"/cases/{case_id}"))
    for kind in COPIED:
        assert f'href="/documents/{documents[kind]}"' in page
    assert f'href="/documents/{documents["receipt"]}"' not in page  # the police's receipt is not copied
    assert page.count('class="badge copied"') == len(COPIED) and "抄送本单位" in page
    assert "500000" not in page and "没有犯罪事实" not in page  # no facts, no task results

    letter = text(liaison.get(f"/documents/{documents['transfer_letter']}"))
    assert "涉嫌犯罪案件移送书" in letter and re.search(r"抄送：[^<]*人民检察院", letter)
    notice = text(liaison.get(f"/documents/{documents['non_filing_notice']}"))
    assert "不予立案通知书" in notice and "没有犯罪事实" in notice
    assert liaison.get(f"/documents/{documents['receipt']}").status_code == 404
    assert liaison.get(f"/cases/{case_id}/evidence/{evidence[0]}/download").status_code in (403, 404)
    views = _views(app, case_id)
    assert [v["document_id"] for v in views] == [documents["transfer_letter"], documents["non_filing_notice"]]
    assert all(v["confidential"] is True and v["read_as"] == "copy" for v in views)

    api = ApiClient(app, "procuratorate_liaison")
    assert sorted(d["kind"] for d in api.get(f"/cases/{case_id}/documents").get_json()) == sorted(COPIED)
    assert api.get(f"/documents/{documents['returned_materials_receipt']}").status_code == 200
    assert api.get(f"/documents/{documents['receipt']}").status_code == 404
    assert api.get(f"/evidence/{evidence[0]}/file").status_code in (403, 404)
    assert len(_views(app, case_id)) == 3

    # The procuratorate's other users, not assigned to the case, read none of it.
    prosecutor = client_for("procuratorate_handler")
    assert "/documents/" not in text(prosecutor.get(f"/cases/{case_id}"))
    assert prosecutor.get(f"/documents/{documents['transfer_letter']}").status_code == 404
    # SAMR's assigned handler reads them as the case's content: not a copy.
    assert handler.get(f"/documents/{documents['transfer_letter']}").status_code == 200
    assert "read_as" not in _views(app, case_id)[-1]
    assert 'class="badge copied"' not in text(handler.get(f"/cases/{case_id}"))
