"""Notifications read as people expect: one per event per person, read when followed or when the
task they announce is done, grouped by case, and all marked read at once."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.oversight.notifications import scan_deadlines
from models import Notification, User
from web.db import db

from .api_helpers import TRANSFER_STEPS, ApiClient
from .helpers import post, text
from .test_notifications import badge, new_case, notification_ids


def _walk(app, case_id: int, steps) -> None:
    for username, bpmn_id, data in steps:
        client = ApiClient(app, username)
        task = client.task_of(case_id, bpmn_id)
        assert client.post(f"/tasks/{task['id']}/claim").status_code == 200
        assert client.post(f"/tasks/{task['id']}/complete", json={"data": data}).status_code == 200


def _notices(app, username: str) -> list[tuple[int | None, str]]:
    with db.new_session(app) as session:
        return [tuple(row) for row in session.execute(
            select(Notification.task_id, Notification.kind).join(User, User.id == Notification.recipient_id)
            .where(User.username == username).order_by(Notification.id))]


def test_following_a_notification_marks_it_read_and_opens_its_task(app, client_for):
    new_case(app)
    client = client_for("samr_handler2")
    [note_id] = notification_ids(app, "samr_handler2")
    with db.new_session(app) as session:
        task_id = session.get(Notification, note_id).task_id
    assert badge(text(client.get("/"))) == "1"
    response = client.get(f"/notifications/{note_id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task_id}"
    with db.new_session(app) as session:
        assert session.get(Notification, note_id).read_at is not None
    assert badge(text(client.get("/"))) is None
    # Someone else's notification is not found, and stays unread.
    other = client_for("samr_handler")
    assert other.get(f"/notifications/{note_id}").status_code == 404


def test_a_notice_of_a_completed_task_is_read(app, client_for):
    case_id = new_case(app)
    reader = client_for("samr_handler2")
    assert badge(text(reader.get("/"))) == "1"
    _walk(app, case_id, TRANSFER_STEPS[:1])  # samr_handler completes the task announced
    html = text(reader.get("/notifications"))
    assert badge(html) is None and "任务已结束" in html
    assert "有新任务可认领" not in text(reader.get("/notifications?unread=1"))


def test_one_notice_per_liaison_for_a_24_hour_handoff(app, clock):
    case_id = new_case(app)
    _walk(app, case_id, TRANSFER_STEPS[:2])  # the head approves: the liaison's hand-off opens
    handoff = [(task, kind) for task, kind in _notices(app, "samr_liaison")]
    assert [kind for _task, kind in handoff] == ["handoff_pending"]
    with db.new_session(app) as session:
        scan_deadlines(session)
    assert _notices(app, "samr_liaison") == handoff, "due soon from its start: no second notice"
    clock.advance(hours=25)
    with db.new_session(app) as session:
        scan_deadlines(session)
    assert [kind for _task, kind in _notices(app, "samr_liaison")] == ["handoff_pending", "deadline_passed"]


def test_the_page_groups_notices_by_case_and_marks_all_read(app, client_for):
    first, second = new_case(app, "甲案"), new_case(app, "乙案")
    client = client_for("samr_handler2")
    html = text(client.get("/notifications"))
    headings = re.findall(r"<h2>(LD2026-\d{5}) (\S+)</h2>", html)
    assert headings == [(f"LD2026-{second:05d}", "乙案"), (f"LD2026-{first:05d}", "甲案")]
    assert badge(html) == "2"
    response = post(client, "/notifications/read", token_from="/notifications")
    assert response.status_code == 303
    assert badge(text(client.get("/notifications"))) is None


def test_english_grouping(app, client_for):
    new_case(app)
    html = text(client_for("samr_handler2").get("/notifications", headers={"Accept-Language": "en"}))
    assert 'class="notification-case"' in html
