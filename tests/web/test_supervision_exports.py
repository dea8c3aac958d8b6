"""CSV downloads of the supervision pages, read back with the csv module as a script would.

Each file is UTF-8 with a BOM (so Excel shows the Chinese), an attachment, and audited.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import select

from engine import verify_audit
from models import SYSTEM_CHAIN, AuditEvent, case_chain
from tests.conftest import SHANGHAI
from tests.helpers import FACTS_500K
from web.db import db

from .helpers import user_id
from .test_supervision import AT_DECISION, AT_REVIEW, drive, number


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def chain(app, name: str) -> list[AuditEvent]:
    with db.new_session(app) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.chain == name).order_by(AuditEvent.seq)))


def test_case_timeline_csv(app, client_for, clock):
    case_id = drive(app, AT_DECISION)
    clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI))
    before = chain(app, case_chain(case_id))
    response = client_for("office_supervisor").get(f"/supervision/cases/{case_id}/timeline.csv")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{number(app, case_id)}-timeline.csv"'
    header, *rows = read_csv(response)
    # Worded as the page's timeline: events by their labels, steps by their names, no codes or JSON.
    assert header == ["时间（北京时间）", "操作人", "单位", "事项", "任务", "说明"]
    assert len(rows) == len(before)
    first = rows[0]
    assert first == ["2026-03-02T09:00:00+08:00", "王承办（市场监管）", "聊城市东昌府区市场监督管理局",
                     "案件登记", "", number(app, case_id)]
    [done] = [r for r in rows if r[3] == "任务办结"]
    assert done[4] == "登记案件事实" and done[5] == ""
    assert [r[4] for r in rows if r[3] == "任务生成"][-1] == "负责人审批移送"
    assert not any(FACTS_500K["summary"] in cell or FACTS_500K["party_name"] in cell for r in rows for cell in r)
    for code in ("case_created", "task_completed", "register_facts", "samr.head", "{"):
        assert not any(code in cell for r in rows for cell in r), code
    # The download itself is on the case's chain, after what it exported.
    after = chain(app, case_chain(case_id))
    assert len(after) == len(before) + 1
    assert after[-1].event_type == "timeline_exported" and after[-1].detail == {"events": len(before)}
    with db.new_session(app) as s:
        assert verify_audit(s, case_id) == []
    # English for an English user.
    english = client_for("office_supervisor")
    english.get("/?lang=en")
    header, *rows = read_csv(english.get(f"/supervision/cases/{case_id}/timeline.csv"))
    assert header == ["Time (Beijing)", "Who", "Agency", "Event", "Task", "Detail"]
    assert ["Task completed", "Register the case facts"] in [r[3:5] for r in rows]


def test_overdue_csv_has_every_filtered_row_and_is_audited(app, client_for, clock):
    samr, police = drive(app, AT_DECISION), drive(app, AT_REVIEW)
    clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI))
    app.config["SUPERVISION_PAGE_SIZE"] = 1  # the file is not limited to one page
    supervisor = client_for("office_supervisor")
    header, *rows = read_csv(supervisor.get("/supervision/overdue.csv"))
    assert header == ["案件编号", "机制", "任务", "单位", "岗位", "办理人", "办理起始时间",
                      "办理期限（北京时间）", "暂定", "超期小时数", "期限及其法律依据"]
    assert [r[0] for r in rows] == [number(app, samr), number(app, police)]
    assert rows[0][:-1] == [number(app, samr), "立案协助", "负责人审批移送", "聊城市东昌府区市场监督管理局",
                            "东市监 · 负责人", "待认领", "2026-03-02T09:00:00+08:00", "2026-03-05T23:59:59+08:00",
                            "", "10.0"]
    # Which legal period the due time follows and what it runs from, as on the task page.
    assert rows[0][-1].startswith("《") and "起" in rows[0][-1]
    response = supervisor.get("/supervision/overdue.csv?agency=police")
    assert response.headers["Content-Disposition"] == 'attachment; filename="overdue-20260306-1000.csv"'
    assert [r[0] for r in read_csv(response)[1:]] == [number(app, police)]
    exports = [e for e in chain(app, SYSTEM_CHAIN) if e.event_type == "overdue_list_exported"]
    assert [e.detail for e in exports] == [
        {"filters": {"status": "overdue"}, "rows": 2},
        {"filters": {"status": "overdue", "agency": "police"}, "rows": 1},
    ]
    assert exports[0].actor_id == user_id(app, "office_supervisor")


def test_agency_heads_export_their_own_agency(app, client_for, clock):
    drive(app, AT_DECISION)
    police = drive(app, AT_REVIEW)
    clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI))
    rows = read_csv(client_for("police_head").get("/supervision/overdue.csv"))[1:]
    assert [r[0] for r in rows] == [number(app, police)]
    assert client_for("police_head").get("/supervision/overdue.csv?agency=samr").status_code == 403


def test_due_soon_csv(app, client_for, clock):
    case_id = drive(app, AT_DECISION)
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI))
    response = client_for("office_supervisor").get("/supervision/overdue.csv?status=due_soon")
    assert "due-soon-" in response.headers["Content-Disposition"]
    [row] = read_csv(response)[1:]
    assert row[0] == number(app, case_id) and row[-2] == "-15.0"  # 15 hours still to go
