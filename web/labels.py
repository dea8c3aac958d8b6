"""Human names for the engine's codes (roles, states, audit event types), translated lazily."""
from __future__ import annotations

from enum import Enum

from flask_babel import lazy_gettext as _l

from models import HumanTaskState, InstanceStatus

from . import workflow_text

ROLES = {
    "handler": _l("Handler"),
    "head": _l("Head"),
    "liaison": _l("Liaison"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
}

CONFIDENTIALITY = {
    "internal": _l("Internal"),
    "confidential": _l("Confidential"),
    "secret": _l("Secret"),
}

TASK_STATES = {
    HumanTaskState.OPEN: _l("Open"),
    HumanTaskState.COMPLETED: _l("Completed"),
    HumanTaskState.CANCELLED: _l("Cancelled"),
}

INSTANCE_STATES = {
    InstanceStatus.RUNNING: _l("Running"),
    InstanceStatus.COMPLETED: _l("Completed"),
    InstanceStatus.ERROR: _l("Error"),
    InstanceStatus.CANCELLED: _l("Cancelled"),
}

EVENTS = {
    "case_created": _l("Case opened"),
    "instance_started": _l("Process started"),
    "instance_completed": _l("Process completed"),
    "instance_failed": _l("Process failed"),
    "instance_retried": _l("Process retried"),
    "task_created": _l("Task created"),
    "task_claimed": _l("Task claimed"),
    "task_unclaimed": _l("Task released"),
    "task_reassigned": _l("Task reassigned"),
    "task_completed": _l("Task completed"),
    "task_cancelled": _l("Task cancelled"),
    "handoff_approved": _l("Handoff approved"),
    "handoff_rejected": _l("Handoff returned"),
    "message_sent": _l("Message sent"),
    "message_delivered": _l("Message delivered"),
    "message_failed": _l("Message failed"),
    "evidence_viewed": _l("Evidence viewed"),
    "evidence_added": _l("Evidence added"),
    "evidence_downloaded": _l("Evidence downloaded"),
    "evidence_integrity_failed": _l("Evidence file failed its hash check"),
    "evidence_handed_over": _l("Evidence handed over"),
    "evidence_received": _l("Evidence signed for"),
    "task_delegated": _l("Task delegated"),
    "comment_added": _l("Comment added"),
    "deadline_extended": _l("Deadline extended"),
    "legal_event_recorded": _l("Legal event recorded"),
    "language_set": _l("Language changed"),
    "email_set": _l("Email address changed"),
    "document_generated": _l("Document issued"),
    "document_viewed": _l("Document viewed"),
    "timer_fired": _l("Deadline timer fired"),
    "timeline_exported": _l("Timeline exported"),
    "overdue_list_exported": _l("Overdue list exported"),
    "calendar_day_set": _l("Calendar day entered"),
    "calendar_day_cleared": _l("Calendar day removed"),
    "evidence_package_submitted": _l("Evidence package submitted"),
    "evidence_reviewed": _l("Evidence item reviewed"),
    "information_requested": _l("Information requested"),
    "shared_information_granted": _l("Information shared"),
    "shared_information_refused": _l("Information request refused"),
    "shared_information_viewed": _l("Shared information viewed"),
}

# Codes that task hooks put in a task's context lines as Enum members (so no free text is taken
# for a code): by the enum's name, then the code.
CONTEXT_CODES = {
    # An information request's state (engine/mechanisms/sharing.py RequestState).
    "RequestState": {
        "submitted": _l("Awaiting the liaison's review"),
        "withdrawn": _l("Not sent"),
        "sent": _l("Sent, awaiting the answer"),
        "granted": _l("Sharing granted"),
        "refused": _l("Refused"),
    },
}

EVIDENCE_KINDS = {
    "physical": _l("Physical evidence"),
    "documentary": _l("Documentary evidence"),
    "audio_visual": _l("Audio-visual material"),
    "electronic_data": _l("Electronic data"),
    "expert_opinion": _l("Expert opinion"),
    "inspection_record": _l("Inspection record"),
    "interview_record": _l("Interview record"),
}


def label(table: dict, code: str | None) -> str:
    """The label of a code, or the code itself when it is new to the web layer."""
    return str(table.get(code, code or ""))


def context_text(value):
    """A task context line's text: an engine code labelled in the page's language, anything
    else as it is."""
    if isinstance(value, Enum):
        return label(CONTEXT_CODES.get(type(value).__name__, {}), value.value)
    return value


def lane(task) -> str:
    """A task's lane as people say it: agency short name and role."""
    agency = task.agency.short_name or task.agency.name
    return f"{agency} · {label(ROLES, task.role)}"


def event_detail(event, content: bool = True) -> str:
    """One short line about an audit event; never the form data it may carry. Error messages
    may quote case data, so they are shown only to those who may read the case's content."""
    detail = event.detail or {}
    keys = ("title", "message", "number", "process") if content else ("title", "number", "process")
    for key in keys:
        if detail.get(key):
            # Task and process names come from the diagrams: shown in the page's language.
            value = str(detail[key])
            return workflow_text.process_name(value) if key == "process" else workflow_text.translate(value)
    return ""


def register(app) -> None:
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLES, CONFIDENTIALITY_LABELS=CONFIDENTIALITY, TASK_STATE_LABELS=TASK_STATES,
        INSTANCE_STATE_LABELS=INSTANCE_STATES, EVENT_LABELS=EVENTS, label=label, lane_label=lane,
        event_detail=event_detail, EVIDENCE_KIND_LABELS=EVIDENCE_KINDS,
    )
