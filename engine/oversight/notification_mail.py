"""Email as the second channel of notifications: an outbox the worker sends after commit.

A notification is mailed when its recipient has an email address, it is still unread, and it
is younger than MAX_AGE (switching mail on later does not flood anyone with old news). Each row
is taken by one conditional UPDATE that leases it for LEASE, so of several workers one sends it;
the lease is committed before talking to the SMTP server, so no database lock is held meanwhile.
Success sets `emailed_at`; a failure counts an attempt, keeps the reason in `email_error` and
waits with back-off, up to MAX_ATTEMPTS. The in-app notification is never touched by any of it.

Mails are in Chinese and carry the case number and task title only, never the case title or
content: mail leaves the system, and case content is for the pages' access rules.
"""
from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import Notification, User

MAX_ATTEMPTS = 8
MAX_AGE = timedelta(days=2)
LEASE = timedelta(minutes=5)

SUBJECTS = {
    "task_claimable": "新的待办任务：{title}",
    "task_assigned": "任务已转交给您：{title}",
    "task_delegated": "任务已指派给您：{title}",
    "handoff_pending": "移交待您审批：{title}",
    "deadline_soon": "任务即将到期：{title}",
    "deadline_passed": "任务已超期：{title}",
    "case_copied": "移送书抄送：案件 {case_number}",
    "non_filing_reported": "不予立案：案件 {case_number}",
    "non_filing_upheld_reported": "复议维持不予立案：案件 {case_number}",
    "transfer_refused_reported": "不予移送：案件 {case_number}",
    "transfer_abandoned_reported": "终止移送：案件 {case_number}",
    "filing_overdue_reported": "立案审查超期：案件 {case_number}",
    "evidence_damaged": "案件 {case_number} 的证据 {title} 文件已损坏",
    "verdict_overridden": "您对证据 {title} 的审查结论已改为不予认可",
    "result_recorded": "案件 {case_number} 有新的办理结果",
    "action_item_withdrawn": "会商落实事项已撤回：{title}",
}
BODIES = {
    "task_claimable": "案件 {case_number} 有一项新任务“{title}”，您可以认领办理。",
    "task_assigned": "{actor}将案件 {case_number} 的任务“{title}”转交给您办理。",
    "task_delegated": "{actor}将案件 {case_number} 的任务“{title}”指派给您办理。",
    "handoff_pending": "案件 {case_number} 的“{title}”等待您审批移交。",
    "deadline_soon": "案件 {case_number} 的任务“{title}”将于 {due} 到期，剩余不足一个工作日。",
    "deadline_passed": "案件 {case_number} 的任务“{title}”已于 {due} 到期，尚未办结。",
    "case_copied": "案件 {case_number} 的涉嫌犯罪案件移送书已抄送本单位，可在系统中查阅移送书、办理时间线和各项决定。",
    "non_filing_reported": "公安机关已对案件 {case_number} 作出不予立案决定并通知移送机关。",
    "non_filing_upheld_reported": "公安机关复议决定维持对案件 {case_number} 不予立案的决定。",
    "transfer_refused_reported": "市场监管部门负责人决定对案件 {case_number} 不予移送公安机关。",
    "transfer_abandoned_reported": "案件 {case_number} 的移送经联络员多次退回后终止。",
    "filing_overdue_reported": "公安机关未在期限（{due}）内对案件 {case_number} 作出是否立案的决定。",
    "evidence_damaged": "案件 {case_number} 的证据 {title} 的存储文件与登记的 SHA-256 不一致（或已缺失），"
                        "已标记为已损坏，在管理员从备份恢复前不提供下载、移交或认可。",
    "verdict_overridden": "案件 {case_number} 的证据 {title} 文件完整性校验未通过，您的审查结论已被改为不予认可。",
    "result_recorded": "{actor}登记了案件 {case_number} 立案后的办理结果（侦查、起诉或审判）。",
    "action_item_withdrawn": "{actor}撤回了案件 {case_number} 的会商交办本单位的落实事项“{title}”，"
                             "该事项的落实任务已取消，撤回理由见案件页面。",
}


@dataclass(frozen=True)
class MailSettings:
    """SMTP settings (config.py: MAIL_*). `use_tls` means STARTTLS after connecting."""

    enabled: bool = False
    host: str = "localhost"
    port: int = 25
    sender: str = "liandong@localhost"
    use_tls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 10.0
    base_url: str = ""
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(
            enabled=bool(config.get("MAIL_ENABLED")), host=config.get("MAIL_HOST", cls.host),
            port=int(config.get("MAIL_PORT", cls.port)), sender=config.get("MAIL_SENDER", cls.sender),
            use_tls=bool(config.get("MAIL_USE_TLS")), username=config.get("MAIL_USERNAME") or "",
            password=config.get("MAIL_PASSWORD") or "",
            timeout=float(config.get("MAIL_TIMEOUT", cls.timeout)),
            base_url=(config.get("BASE_URL") or "").rstrip("/"),
            timezone=config.get("DISPLAY_TIMEZONE", cls.timezone),
        )


def compose(row: Notification, address: str, settings: MailSettings) -> EmailMessage:
    """The Chinese mail for one notification."""
    params = row.params or {}
    due = params.get("due_at")
    values = {
        "title": params.get("title", ""), "case_number": params.get("case_number", ""),
        "actor": params.get("actor") or "联络员",
        "due": datetime.fromisoformat(due).astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")
        if due else "",
    }
    where = f"请登录联动系统查看：{settings.base_url}/notifications" if settings.base_url else "请登录联动系统查看。"
    message = EmailMessage()
    message["Subject"] = "【联动】" + SUBJECTS[row.kind].format(**values)
    message["From"] = settings.sender
    message["To"] = address
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = make_msgid(f"notification-{row.id}", settings.sender.rpartition("@")[2] or None)
    message.set_content(f"{BODIES[row.kind].format(**values)}\n\n{where}\n\n（本邮件由系统自动发送，请勿回复。）\n")
    return message


def deliver(settings: MailSettings, message: EmailMessage) -> None:
    """Hand one message to the SMTP server; raises OSError or SMTPException on failure."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


def send_pending(session: Session, settings: MailSettings, limit: int = 50) -> int:
    """Mail up to `limit` due notifications; returns how many were sent. Stops at the first
    failure (the server is likely down; the next pass tries again)."""
    if not settings.enabled:
        return 0
    sent = 0
    for _ in range(limit):
        outcome = _send_next(session, settings)
        if outcome in (None, "failed"):
            break
        sent += outcome == "sent"
    return sent


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 60))


def _send_next(session: Session, settings: MailSettings) -> str | None:
    """Lease, send and record one notification: "sent", "failed", "skipped" (another worker
    leased it first), or None when nothing is due."""
    at = now(session)
    with transaction(session):  # the lease, committed before the (slow) SMTP conversation
        candidate = session.execute(
            select(Notification.id, User.email).join(User, User.id == Notification.recipient_id)
            .where(Notification.emailed_at.is_(None), Notification.read_at.is_(None),
                   Notification.email_attempts < MAX_ATTEMPTS, Notification.created_at >= at - MAX_AGE,
                   or_(Notification.email_retry_at.is_(None), Notification.email_retry_at <= at),
                   User.email.is_not(None), User.email != "", User.active.is_(True))
            .order_by(Notification.id).limit(1)
        ).first()
        if candidate is None:
            session.rollback()  # a poll that found nothing
            return None
        leased = cast("CursorResult[Any]", session.execute(
            update(Notification)
            .where(Notification.id == candidate.id, Notification.emailed_at.is_(None),
                   or_(Notification.email_retry_at.is_(None), Notification.email_retry_at <= at))
            .values(email_retry_at=at + LEASE)
            .execution_options(synchronize_session=False)
        )).rowcount
    if not leased:
        return "skipped"
    with transaction(session):  # the outcome
        row = session.get_one(Notification, candidate.id, populate_existing=True)
        try:
            deliver(settings, compose(row, candidate.email, settings))
        except (OSError, smtplib.SMTPException) as exc:
            row.email_attempts += 1
            row.email_retry_at = at + _backoff(row.email_attempts)
            row.email_error = f"{exc.__class__.__name__}: {exc}"[:500]
            return "failed"
        row.email_attempts += 1
        row.emailed_at, row.email_retry_at, row.email_error = at, None, None
        return "sent"
