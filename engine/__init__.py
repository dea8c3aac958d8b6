"""Liandong's workflow engine: SpiffWorkflow runtime, persistence, time, access. No Flask here.

The web layer and the CLI use only the names exported here (the surface below, grouped by area);
the packages behind it (docs/architecture.md):

- `runtime`: one instance's step — the SpiffWorkflow boundary, process models, instances, task
  rows, outbox, timer rows, the transaction helper.
- `time`: the injectable clock, the business calendar and how due times are counted.
- `access`: who may do what (`policy`), the audit chain, users and tokens.
- `casework`: cases, human-task actions, comments, documents, evidence and its custody.
- `mechanisms`: the domain rules of individual mechanisms, named by diagrams as task hooks.
- `oversight`: read-side queries for pages, supervision, metrics and notifications.
- `worker`: what drives steps from outside a request (due timers, message delivery, mail).
"""
from engine.access import policy
from engine.access.audit import AUDIT_KEY, AuditKeyError
from engine.access.audit_verify import HEADER as CHECKPOINT_HEADER
from engine.access.audit_verify import checkpoint_lines, read_checkpoint
from engine.access.audit_verify import seal as seal_audit
from engine.access.audit_verify import verify as verify_audit
from engine.access.logins import authenticate, throttled, unlock_user
from engine.access.preferences import LANGUAGES, set_email, set_language
from engine.access.sessions import end_sessions, set_active, user_account, user_accounts
from engine.access.tokens import TOKEN_CACHE, TokenCache, create_token, revoke_token, user_for_token, user_tokens
from engine.access.users import change_password, create_user, set_password
from engine.bootstrap import create_demo_users, deploy_folder, ensure_agencies
from engine.casework.cases import (
    OpenedCase,
    create_case,
    duplicate_starts,
    open_case,
    opening_mechanisms,
    start_mechanism,
    startable_mechanisms,
)
from engine.casework.clues import (
    CluePage,
    ClueView,
    OpenedAttachment,
    TriageResult,
    add_clue_attachment,
    clue_of_case,
    clue_page,
    evidence_of_clue,
    open_clue_attachment,
    register_clue,
    triage_clue,
    visible_clue,
)
from engine.casework.comments import MAX_LENGTH as MAX_COMMENT_LENGTH
from engine.casework.comments import add_comment, task_comments
from engine.casework.custody import hand_over_evidence, receive_evidence
from engine.casework.documents import KINDS as DOCUMENT_KINDS
from engine.casework.documents import case_documents, open_document
from engine.casework.evidence import (
    OpenedEvidence,
    add_evidence,
    damaged_evidence_ids,
    list_evidence,
    open_evidence,
    view_evidence,
    visible_evidence,
)
from engine.casework.evidence_files import EvidenceStore
from engine.casework.handoff_batch import MAX_BATCH as MAX_BATCH_APPROVALS
from engine.casework.handoff_batch import BatchOutcome, batch_approvable
from engine.casework.parties import (
    NOTICE_KINDS,
    HolderNotice,
    add_rights_holder,
    generate_holder_notice,
    holder_notices,
    notice_deliveries,
    record_delivery,
    rights_holders,
    update_rights_holder,
    visible_notice,
    visible_rights_holder,
)
from engine.casework.results import (
    CaseResults,
    CaseStillRunning,
    case_results,
    close_case,
    record_result,
    running_mechanisms,
)
from engine.casework.standing import (
    HandoffStep,
    grant_standing_approval,
    handoff_steps,
    revoke_standing_approval,
    standing_approvals,
)

# A completion or a batch of approvals, then the standing approvals of the hand-offs it opened.
from engine.casework.standing import approve_and_follow as approve_handoffs
from engine.casework.standing import complete_and_follow as complete_task
from engine.casework.tasks import (
    assign_task,
    claim_task,
    delegate_task,
    reassign_task,
    unclaim_task,
    visible_task,
)
from engine.errors import (
    Conflict,
    DeployError,
    EngineError,
    EvidenceCorrupted,
    Forbidden,
    InvalidInput,
    NotFound,
    StaleState,
    TooLarge,
    WorkflowError,
)
from engine.mechanisms.action_withdrawal import withdraw_item as withdraw_action_item
from engine.mechanisms.action_withdrawal import withdrawable as action_item_withdrawable
from engine.mechanisms.completion import Term
from engine.mechanisms.consultation_actions import case_items as consultation_action_items
from engine.mechanisms.hooks import form_choices, task_context
from engine.mechanisms.reactions import REACTIONS as _REACTIONS  # noqa: F401  (installs them in the runtime)
from engine.mechanisms.recognition import case_packages, item_recognitions
from engine.mechanisms.sharing import (
    case_requests,
    open_grant,
    open_shared_document,
    open_shared_evidence,
    shared_with_me,
)
from engine.oversight import metrics
from engine.oversight.case_reads import case_instances, case_tasks, case_timeline, visible_case
from engine.oversight.notification_mail import MailSettings
from engine.oversight.notification_mail import deliver as deliver_mail
from engine.oversight.notifications import mark_all_read, mark_read, my_notifications, unread_count
from engine.oversight.queries import (
    DUE_WINDOWS,
    INBOX_SORTS,
    INBOX_VIEWS,
    InboxFilter,
    Page,
    agencies,
    case_page,
    find_user,
    inbox,
    lane_users,
    visible_cases,
)
from engine.oversight.register import MECHANISMS as REGISTER_MECHANISMS
from engine.oversight.register import STATES as REGISTER_STATES
from engine.oversight.register import RegisterFilter, RegisterRow, register_page
from engine.oversight.statistics import Figure as StatisticsFigure
from engine.oversight.statistics import Period as StatisticsPeriod
from engine.oversight.statistics import Statistics, check_period, statistics
from engine.oversight.statistics import record_export as record_statistics_export
from engine.oversight.supervision import overdue_tasks
from engine.oversight.task_guidance import NextWork, carried_values, next_work, task_subjects
from engine.runtime.definitions import definition, task_form
from engine.runtime.deploy import deploy_paths
from engine.runtime.instances import retry_instance
from engine.runtime.process_models import deploy_named, latest_models
from engine.time import legal_periods
from engine.time.calendar import BusinessCalendar, format_due, parse_rule
from engine.time.calendar_store import (
    business_calendar,
    calendar_days,
    clear_calendar_day,
    provisional_after,
    set_calendar_day,
)
from engine.time.clock import Clock, FixedClock, SystemClock
from engine.time.legal_periods import CatalogError
from engine.worker.messages import deliver_pending
from engine.worker.passes import Pass as WorkerPass
from engine.worker.passes import drain as drain_worker

__all__ = [
    # Errors every service function may raise (web/errors.py maps each to one HTTP status).
    "EngineError", "NotFound", "Forbidden", "Conflict", "StaleState", "InvalidInput", "DeployError", "WorkflowError",
    "TooLarge", "EvidenceCorrupted",
    # Time: "now" and the business calendar.
    "Clock", "FixedClock", "SystemClock", "BusinessCalendar", "business_calendar", "format_due", "calendar_days",
    "set_calendar_day", "clear_calendar_day", "provisional_after",
    # Legal periods: the catalog (workflows/deadlines.toml) and counting from a legal event.
    "legal_periods", "CatalogError", "parse_rule",
    # Setting up a database; process models.
    "ensure_agencies", "create_demo_users", "deploy_folder", "deploy_paths", "deploy_named", "latest_models",
    "definition", "task_form", "retry_instance",
    # Cases and mechanisms.
    "OpenedCase", "create_case", "open_case", "start_mechanism", "startable_mechanisms", "opening_mechanisms",
    "duplicate_starts",
    # A consultation's action items and where each stands; the convener's withdrawal of one.
    "consultation_action_items", "withdraw_action_item", "action_item_withdrawable",
    # Clues before a case: registering, attachments, triage into a case or closing.
    "CluePage", "ClueView", "OpenedAttachment", "TriageResult", "register_clue", "add_clue_attachment",
    "open_clue_attachment", "clue_page", "visible_clue", "clue_of_case", "triage_clue", "evidence_of_clue",
    # Human tasks: the inbox and its actions.
    "INBOX_VIEWS", "INBOX_SORTS", "DUE_WINDOWS", "InboxFilter", "Page", "inbox", "visible_task",
    "claim_task", "unclaim_task", "assign_task", "reassign_task", "delegate_task", "complete_task", "lane_users",
    "form_choices", "task_context", "Term", "add_comment", "task_comments", "MAX_COMMENT_LENGTH",
    "task_subjects", "NextWork", "next_work", "BatchOutcome", "approve_handoffs", "batch_approvable",
    "HandoffStep", "handoff_steps", "standing_approvals", "grant_standing_approval", "revoke_standing_approval",
    "MAX_BATCH_APPROVALS", "carried_values",
    # Case pages: reads filtered by the access policy.
    "visible_case", "visible_cases", "case_page", "case_instances", "case_tasks", "case_timeline", "agencies",
    "find_user", "DOCUMENT_KINDS", "case_documents", "open_document",
    # Rights holders as parties: their particulars, the notices they are owed, each delivery.
    "NOTICE_KINDS", "HolderNotice", "rights_holders", "add_rights_holder", "update_rights_holder",
    "visible_rights_holder", "visible_notice", "holder_notices", "generate_holder_notice", "record_delivery",
    "notice_deliveries",
    # Evidence, its custody, recognition and information sharing.
    "OpenedEvidence", "EvidenceStore", "add_evidence", "list_evidence", "open_evidence", "view_evidence",
    "damaged_evidence_ids",
    "visible_evidence", "hand_over_evidence", "receive_evidence", "case_packages", "item_recognitions",
    "case_requests", "open_grant", "open_shared_document", "open_shared_evidence", "shared_with_me",
    # Access: the policy module, users, tokens, preferences, audit.
    "policy", "authenticate", "create_user", "create_token", "revoke_token", "user_for_token", "user_tokens",
    "TOKEN_CACHE", "TokenCache", "LANGUAGES", "set_language", "set_email", "verify_audit",
    "change_password", "set_password", "end_sessions", "set_active", "user_accounts", "user_account",
    "throttled", "unlock_user",
    "AUDIT_KEY", "AuditKeyError", "seal_audit", "checkpoint_lines", "read_checkpoint", "deliver_mail",
    "CHECKPOINT_HEADER",
    # Oversight: supervision, metrics, notifications.
    "metrics", "overdue_tasks", "my_notifications", "unread_count", "mark_read", "mark_all_read",
    "MailSettings",
    # The shared case register across agencies.
    "REGISTER_MECHANISMS", "REGISTER_STATES", "RegisterFilter", "RegisterRow", "register_page",
    # Results after filing, closing a case, and the task force's statistics.
    "CaseResults", "CaseStillRunning", "case_results", "close_case", "record_result", "running_mechanisms",
    "Statistics", "StatisticsFigure", "StatisticsPeriod", "check_period", "statistics", "record_statistics_export",
    # The worker's pass.
    "WorkerPass", "drain_worker", "deliver_pending",
]
