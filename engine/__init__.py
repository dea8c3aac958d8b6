"""Liandong's workflow engine: SpiffWorkflow runtime, persistence, messages. No Flask here.

The web layer and the CLI call only the service functions exported below.
"""
from .audit import verify as verify_audit
from .cases import OpenedCase, create_case, open_case, start_mechanism, startable_mechanisms
from .clock import Clock, FixedClock, SystemClock
from .definitions import definition, task_form
from .deploy import deploy_paths
from .errors import Conflict, DeployError, EngineError, Forbidden, InvalidInput, NotFound, WorkflowError
from .errors import EvidenceCorrupted, TooLarge
from .calendar_store import set_calendar_day
from .custody import hand_over_evidence, receive_evidence
from .evidence import OpenedEvidence, add_evidence, list_evidence, open_evidence, view_evidence, visible_evidence
from .evidence_files import EvidenceStore
from .instances import retry_instance
from .messages import deliver_pending
from .process_models import deploy_named, latest_models
from .queries import (
    INBOX_VIEWS, Page, case_instances, case_tasks, case_timeline, inbox, visible_case, visible_cases,
)
from .queries import case_page, find_user
from .queries import DUE_WINDOWS, INBOX_SORTS, InboxFilter
from .supervision import overdue_tasks
from .tasks import claim_task, complete_task, reassign_task, unclaim_task, visible_task
from .tasks import delegate_task
from .queries import lane_users
from .tokens import create_token, revoke_token, user_for_token, user_tokens
from .users import authenticate, create_user
from .worker import Pass as WorkerPass
from .worker import drain as drain_worker
from .notification_mail import MailSettings
from .notifications import mark_all_read, mark_read, my_notifications, unread_count
from .task_hooks import form_choices, task_context
from .comments import add_comment, task_comments
from .preferences import set_email, set_language
from .recognition import case_packages, item_recognitions
from .sharing import case_requests, open_grant, open_shared_document, open_shared_evidence, shared_with_me

__all__ = [
    "verify_audit", "create_case", "open_case", "OpenedCase", "start_mechanism", "startable_mechanisms", "Clock", "FixedClock", "SystemClock",
    "deploy_paths", "task_form", "definition", "Conflict", "DeployError", "EngineError", "Forbidden", "InvalidInput",
    "NotFound", "WorkflowError", "retry_instance", "deliver_pending", "INBOX_VIEWS", "Page", "case_instances",
    "case_tasks", "case_timeline", "inbox", "visible_case", "visible_cases", "claim_task",
    "complete_task", "reassign_task", "unclaim_task", "visible_task", "authenticate",
    "create_user", "WorkerPass", "drain_worker",
    "MailSettings", "mark_all_read", "mark_read", "my_notifications", "unread_count",
    "deploy_named", "latest_models", "case_page", "find_user", "overdue_tasks", "create_token",
    "revoke_token", "user_for_token", "user_tokens",
    "EvidenceCorrupted", "TooLarge", "set_calendar_day", "hand_over_evidence", "receive_evidence",
    "OpenedEvidence", "add_evidence", "list_evidence", "open_evidence", "view_evidence",
    "visible_evidence", "EvidenceStore", "delegate_task", "lane_users",
    "form_choices", "task_context", "add_comment", "task_comments", "set_language", "set_email", "DUE_WINDOWS", "INBOX_SORTS", "InboxFilter", "case_packages", "item_recognitions", "case_requests", "open_grant",
    "open_shared_document", "open_shared_evidence", "shared_with_me",
]
