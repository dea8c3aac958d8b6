"""Liandong's workflow engine: SpiffWorkflow runtime, persistence, messages. No Flask here.

The web layer and the CLI call only the service functions exported below.
"""
from .audit import verify as verify_audit
from .cases import create_case, start_mechanism
from .clock import Clock, FixedClock, SystemClock
from .deploy import deploy_paths
from .errors import Conflict, DeployError, EngineError, Forbidden, InvalidInput, NotFound, WorkflowError
from .instances import retry_instance
from .messages import deliver_pending
from .queries import (
    INBOX_VIEWS, Page, case_instances, case_tasks, case_timeline, inbox, visible_case, visible_cases,
)
from .tasks import claim_task, complete_task, reassign_task, unclaim_task, visible_task
from .users import authenticate, create_user
from .worker import Pass as WorkerPass
from .worker import drain as drain_worker

__all__ = [
    "verify_audit", "create_case", "start_mechanism", "Clock", "FixedClock", "SystemClock",
    "deploy_paths", "Conflict", "DeployError", "EngineError", "Forbidden", "InvalidInput",
    "NotFound", "WorkflowError", "retry_instance", "deliver_pending", "INBOX_VIEWS", "Page", "case_instances",
    "case_tasks", "case_timeline", "inbox", "visible_case", "visible_cases", "claim_task",
    "complete_task", "reassign_task", "unclaim_task", "visible_task", "authenticate",
    "create_user", "WorkerPass", "drain_worker",
]
