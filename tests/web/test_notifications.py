"""The notifications page, the header badge, marking read, privacy between users, and the API."""
from __future__ import annotations

import re

from sqlalchemy import select

import engine
from models import Notification, User
from web.db import db

from .api_helpers import ApiClient
from .helpers import post, text

PROBLEM = "application/problem+json"


def new_case(app, title: str = "配方泄露案") -> int:
    """A case opened by samr_handler: its first task tells samr_handler2."""
    with db.new_session(app) as session:
        user = session.scalar(select(User).where(User.username == "samr_handler"))
        return engine.create_case(session, user, title).id


def notification_ids(app, username: str) -> list[int]:
    with db.new_session(app) as session:
        return list(session.scalars(
            select(Notification.id).join(User, User.id == Notification.recipient_id)
            .where(User.username == username).order_by(Notification.id)))


def badge(html: str) -> str | None:
    match = re.search(r'<span class="badge unread-count"[^>]*>(\d+)</span>', html)
    return match.group(1) if match else None


def test_page_badge_and_mark_read(app, client_for):
    case_id = new_case(app)
    client = client_for("samr_handler2")
    home = text(client.get("/"))
    assert badge(home) == "1"
    html = text(client.get("/notifications"))
    assert "<h1>通知</h1>" in html
    [note_id] = notification_ids(app, "samr_handler2")
    with db.new_session(app) as session:
        task_id = session.get(Notification, note_id).task_id
    assert f'href="/notifications/{note_id}"' in html and task_id  # opens the task (test_notifications_read.py)
    assert "有新任务可认领：登记案件事实" in html
    # Without the CSRF token nothing changes.
    assert client.post(f"/notifications/{note_id}/read").status_code == 400
    response = post(client, f"/notifications/{note_id}/read", token_from="/notifications")
    assert response.status_code == 303 and response.headers["Location"].endswith("/notifications")
    html = text(client.get("/notifications"))
    assert badge(html) is None and "已标为已读" in html
    assert f'action="/notifications/{note_id}/read"' not in html
    assert case_id  # the case exists; its creator hears nothing of their own step
    assert badge(text(client_for("samr_handler").get("/"))) is None


def test_newest_first_paging_and_mark_all(app, client_for):
    for n in range(22):
        new_case(app, f"案件{n:02d}")
    client = client_for("samr_handler2")
    first = text(client.get("/notifications"))
    assert badge(first) == "22"
    assert first.count('class="notification unread"') == 20 and "第 1 页，共 2 页" in first
    rows = re.findall(r'id="notification-(\d+)"', first)
    assert [int(r) for r in rows] == sorted(notification_ids(app, "samr_handler2"), reverse=True)[:20]
    second = text(client.get("/notifications?page=2"))
    assert len(re.findall(r'id="notification-(\d+)"', second)) == 2
    post(client, "/notifications/read", token_from="/notifications")
    assert badge(text(client.get("/notifications"))) is None
    assert "暂无通知" in text(client.get("/notifications?unread=1"))


def test_other_users_notifications_are_not_found(app, client_for):
    new_case(app)
    [note_id] = notification_ids(app, "samr_handler2")
    head = client_for("samr_head")
    assert "暂无通知" in text(head.get("/notifications"))
    assert post(head, f"/notifications/{note_id}/read", token_from="/notifications").status_code == 404
    assert post(head, "/notifications/999999/read", token_from="/notifications").status_code == 404
    with db.new_session(app) as session:
        assert session.get(Notification, note_id).read_at is None


def test_english(app, client_for):
    new_case(app)
    client = client_for("samr_handler2")
    html = text(client.get("/notifications?lang=en"))
    assert "<h1>Notifications</h1>" in html and "New task you can claim:" in html


def test_signed_out_users_are_sent_to_log_in(client):
    assert client.get("/notifications").status_code == 302


def test_api_lists_and_marks_read(app):
    new_case(app)
    new_case(app, "第二案")
    api = ApiClient(app, "samr_handler2")
    page = api.get("/notifications").get_json()
    assert page["total"] == 2 and page["pages"] == 1
    newest, oldest = page["items"]
    assert newest["id"] > oldest["id"] and newest["kind"] == "task_claimable"
    assert newest["text"].startswith("有新任务可认领") and newest["read_at"] is None
    assert newest["task_id"] and newest["params"]["title"] == "登记案件事实"
    marked = api.post(f"/notifications/{newest['id']}/read")
    assert marked.status_code == 200 and marked.get_json()["read_at"] is not None
    assert api.get("/notifications?unread=true").get_json()["total"] == 1
    assert api.post("/notifications/read").get_json() == {"marked": 1}
    other = ApiClient(app, "samr_head")
    missing = other.post(f"/notifications/{oldest['id']}/read")
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    assert other.get("/notifications").get_json()["total"] == 0
    bad = api.get("/notifications?per_page=0")
    assert bad.status_code == 422 and "per_page" in bad.get_json()["errors"]
    assert ApiClient(app, "samr_head").client.get("/api/v1/notifications").status_code == 401
