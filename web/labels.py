"""Human names for the engine's codes (roles, states, audit event types), translated lazily."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import Term
from models import HumanTaskState, InstanceStatus

from . import workflow_text
from .document_labels import document_kind
from .event_lines import event_detail, message_label
from .i18n import localtime

ROLES = {
    "handler": _l("Handler"),
    "head": _l("Head"),
    "liaison": _l("Liaison"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
    "intake": _l("Service station staff"),
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
    "mechanism_duplicate_confirmed": _l("Mechanism started again while running"),
    "mechanism_duplicate_started": _l("Mechanism started again by the system while running"),
    "instance_started": _l("Process started"),
    "threshold_assessed": _l("Criminal filing standard assessed"),
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
    "standing_approval_granted": _l("Standing approval of a hand-off granted"),
    "standing_approval_revoked": _l("Standing approval of a hand-off revoked"),
    "handoff_rejected": _l("Handoff returned"),
    "message_sent": _l("Message sent"),
    "message_delivered": _l("Message delivered"),
    "message_failed": _l("Message failed"),
    "evidence_viewed": _l("Evidence viewed"),
    "evidence_added": _l("Evidence added"),
    "evidence_downloaded": _l("Evidence downloaded"),
    "evidence_integrity_failed": _l("Evidence file failed its hash check"),
    "evidence_integrity_restored": _l("Evidence file whole again (restored)"),
    "evidence_verdict_overridden": _l("Verdict changed to not recognised: the file failed its hash check"),
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
    "rights_holder_added": _l("Rights holder recorded"),
    "rights_holder_updated": _l("Rights holder corrected"),
    "late_reconsideration_request_registered": _l("Late request for reconsideration registered"),
    "notice_delivered": _l("Notice delivered to the rights holder"),
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
    "observer_joined": _l("Copied to an observing agency"),
    "non_filing_reported": _l("Non-filing reported to the procuratorate"),
    "non_filing_upheld_reported": _l("Upheld non-filing reported to the procuratorate"),
    "transfer_refused_reported": _l("Refused transfer reported to the procuratorate"),
    "transfer_abandoned_reported": _l("Abandoned transfer reported to the procuratorate"),
    "filing_overdue_reported": _l("Missed filing deadline reported to the procuratorate"),
    "case_closed": _l("Case closed"),
    "document_number_entered": _l("Document number entered"),
    "result_recorded": _l("Result recorded"),
    "clue_registered": _l("Clue registered"),
    "clue_triaged": _l("Clue decided on"),
    "clue_attachment_added": _l("File added to a clue"),
    "clue_attachment_downloaded": _l("File of a clue downloaded"),
    "clue_attachment_integrity_failed": _l("File of a clue failed its hash check"),
    "statistics_exported": _l("Statistics exported"),
    "process_model_deployed": _l("Process model deployed"),
    "login_throttled": _l("Sign-in paused after failed attempts"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset"),
    "sessions_ended": _l("Sessions ended"),
    "token_created": _l("API token created"),
    "token_revoked": _l("API token revoked"),
    "user_activated": _l("User account activated"),
    "user_created": _l("User account created"),
    "user_unlocked": _l("User account unlocked"),
    # A consultation's action items (engine/mechanisms/consultation_actions.py, action_withdrawal.py).
    "action_item_opened": _l("Consultation action item recorded"),
    "action_item_done": _l("Consultation action item done"),
    "action_item_cancelled": _l("Consultation action item cancelled"),
    "action_item_withdrawn": _l("Consultation action item withdrawn by the convener"),
}

# Where an action item stands (the case page's table and the API's `state`).
ACTION_ITEM_STATES = {
    "open": _l("Open"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "withdrawn": _l("Withdrawn by the convener"),
}

# Codes that task hooks put in a task's context lines as Enum members (so no free text is taken
# for a code): by the enum's name, then the code.
EVIDENCE_KINDS = {
    "physical": _l("Physical evidence"),
    "documentary": _l("Documentary evidence"),
    "audio_visual": _l("Audio-visual material"),
    "electronic_data": _l("Electronic data"),
    "expert_opinion": _l("Expert opinion"),
    "inspection_record": _l("Inspection record"),
    "interview_record": _l("Interview record"),
}

# What task context lines and engine-offered choices say (engine/mechanisms/completion.py Term):
# a table per enum class or Term vocabulary; %(name)s placeholders are filled from a Term's args.
CONTEXT_CODES: dict[str, Mapping[str, object]] = {
    # A rights holder's request for reconsideration received after the period (engine/mechanisms/remedies.py).
    "LateRequestLine": {
        "requested_on": _l("Request received on"),
        "period_ended_on": _l("Period for the request ended on"),
        "days_late": _l("Days after the period"),
        "delay_reasons": _l("Reasons given for the delay"),
    },
    # An information request's state and its task's lines (engine/mechanisms/sharing.py).
    "RequestState": {
        "submitted": _l("Awaiting the liaison's review"),
        "withdrawn": _l("Not sent"),
        "sent": _l("Sent, awaiting the answer"),
        "granted": _l("Sharing granted"),
        "refused": _l("Refused"),
    },
    "RequestLine": {
        "requester": _l("Requesting agency"),
        "owner": _l("Requested agency"),
        "purpose": _l("Purpose"),
        "legal_basis": _l("Legal basis"),
        "asked": _l("Information asked for"),
        "needed_by": _l("Needed by"),
        "state": _l("State"),
        "draft_answer": _l("Draft answer"),
        "draft_evidence": _l("Evidence to share"),
        "draft_documents": _l("Documents to share"),
        "shared_until": _l("Shared until"),
        "refusal_reasons": _l("Reasons for refusal"),
    },
    # An evidence package's lines (engine/mechanisms/recognition.py).
    "PackageLine": {
        "provider": _l("Handing-over agency"),
        "receiver": _l("Receiving agency"),
        "purpose": _l("Purpose of the hand-over"),
        "item": _l("Evidence"),
        "kind": _l("Kind"),
        "source": _l("Source"),
        "collected_at": _l("Collected at"),
        "collectors": _l("Collected by"),
        "declared_sha256": _l("Declared SHA-256"),
        "file": _l("File"),
        "integrity": _l("Integrity check (recomputed now)"),
        "note": _l("Please note"),
    },
    "Verdict": {
        "pending": _l("Awaiting review"),
        "recognised": _l("Recognised"),
        "rejected": _l("Not recognised"),
        "supplement": _l("Returned for supplement"),
    },
    "Evidence": {
        "item": _l("#%(id)s %(kind)s: %(text)s"),
        "verdict_reason": _l("%(verdict)s (%(reason)s)"),
        "file": _l("%(name)s (SHA-256 %(sha256)s)"),
        "interview_not_recognised": _l(
            "Interview records cannot be recognised: the receiving agency takes them again."),
        "supplement_round": _l("Supplement, round %(round)s"),
    },
    "Integrity": {
        "intact": _l("Matches"),
        "file_missing": _l("(file missing)"),
        "declared_mismatch": _l("Electronic data does not match its checksum: declared %(expected)s, "
                                "recomputed %(found)s"),
        "recorded_mismatch": _l("File does not match its checksum: recorded %(expected)s, recomputed %(found)s"),
    },
    "EvidenceKind": EVIDENCE_KINDS,
    # The transfer's lines (engine/mechanisms/transfer.py): the decision table's answer, the report's
    # officers, the police handler's review.
    "TransferLine": {
        "threshold": _l("Criminal filing standard"),
        "threshold_rule": _l("Rule applied"),
        "loss_amount": _l("Rights holder's loss"),
        "illegal_gain": _l("Illegal gain"),
        "other_facts": _l("Other circumstances"),
        "threshold_table": _l("Decision table"),
        "legal_source": _l("Legal basis of the table"),
        "please_note": _l("Please note"),
        "signing_officers": _l("Officers who signed the transfer report"),
        "review_recommendation": _l("Handler's recommendation"),
        "review_opinion": _l("Handler's review opinion"),
    },
    "Threshold": {
        "criminal": _l("Filing standard met"),
        "especially_serious": _l("Filing standard met; especially serious circumstances"),
        "reasonable_suspicion": _l("Standard not met, but reasonable suspicion and police measures needed "
                                   "(Decree 310 art. 3(2))"),
        "below_threshold": _l("Filing standard not met"),
        "unknown": _l("Cannot be decided yet: amounts not established"),
        "amount_met": _l("%(input)s %(amount)s yuan ≥ %(limit)s yuan: %(outcome)s"),
        "yuan": _l("%(amount)s yuan"),
        "amount_unknown": _l("Unknown (not yet established)"),
        "table": _l("Version %(version)s, in force since %(effective)s"),
        "reason_needed": _l("Below the filing standard without reasonable suspicion: approving the transfer "
                            "needs a recorded reason; the case can instead go to administrative penalty."),
    },
    "ThresholdFact": {
        "bankruptcy_caused": _l("Rights holder went bankrupt or closed"),
        "other_major_loss": _l("Other major loss"),
        "police_measures_needed": _l("Reasonable suspicion, police measures needed"),
    },
    "Recommendation": {
        "file": _l("Recommends filing the case"),
        "not_file": _l("Recommends not filing the case"),
    },
    "ReviewState": {
        "pending": _l("Under review, not yet submitted"),
    },
    # A consultation's lines (engine/mechanisms/consultation.py): the letter's questions, the answers.
    "ConsultationLine": {
        "convener": _l("Convening agency"),
        "topic": _l("Topic"),
        "questions": _l("Questions to answer"),
        "materials": _l("Materials"),
    },
    "AnswerState": {
        "not_answered": _l("Not answered yet"),
        "no_legal_basis": _l("None given"),
    },
    # The action items' lines (engine/mechanisms/consultation_actions.py).
    "ActionLine": {
        "startable": _l("Mechanisms the items may start"),
        "agencies": _l("Agencies that may be given a task"),
        "item": _l("Action item"),
        "consultation": _l("Called by"),
        "due": _l("Due"),
    },
    "Consultation": {
        "answer_of": _l("Written opinion of %(agency)s"),
        "legal_basis_of": _l("Legal basis given by %(agency)s"),
        "attendees_of": _l("Attendees from %(agency)s"),
    },
}

def label(table: dict, code: str | None) -> str:
    """The label of a code, or the code itself when it is new to the web layer."""
    return str(table.get(code, code or ""))


def context_text(value) -> str:
    """A task context line's title or value, or an engine-offered choice's label, as the page
    says it: engine codes (enum members, Terms) worded in the page's language, times in the display
    zone, lists joined, nothing as "none"; the case's own text as it is."""
    if isinstance(value, Enum):
        return label(CONTEXT_CODES.get(type(value).__name__, {}), value.value)
    if isinstance(value, Term) and value.vocabulary == "Workflow":
        # Text of a file in workflows/ (a decision table's row): its translation from en.json.
        return workflow_text.translate(value.code)
    if isinstance(value, Term):
        wording = label(CONTEXT_CODES.get(value.vocabulary, {}), value.code)
        return wording % {name: context_text(arg) for name, arg in value.args.items()} if value.args else wording
    if isinstance(value, datetime):
        return localtime(value)
    if value is None or value == []:
        return _("(none)")
    if isinstance(value, list):
        return _(", ").join(context_text(item) for item in value)
    return str(value)


# Agencies as an English page names them, by code; a Chinese page uses the agency's own short
# name (东市监, 东公), which is data.
AGENCIES_EN = {
    "samr": "Market Supervision", "police": "Police", "procuratorate": "Procuratorate", "court": "Court",
    "office": "Task Force Office",
}


# Kinds of agency as a rule names them (an extension approved by `police.head`), not one agency.
AGENCY_KINDS = {
    "samr": _l("Market supervision"), "police": _l("Police"), "procuratorate": _l("Procuratorate"),
    "court": _l("Court"), "office": _l("Task force office"),
}


def approver_label(approver: str) -> str:
    """Who approves an extension, as people say it: a lane code (`police.head`) as its agency kind
    and role, words of the deadline catalogue (召集单位) in the page's language."""
    kind, _dot, role = approver.partition(".")
    if kind in AGENCY_KINDS and role in ROLES:
        return f"{AGENCY_KINDS[kind]} · {ROLES[role]}"
    return workflow_text.translate(approver)


def agency_short(agency) -> str:
    """An agency's short name in the page's language: the English name of a known agency on an
    English page, else its own short name (or its name)."""
    if get_locale() is not None and get_locale().language == "en":
        if agency.code in AGENCIES_EN:
            return AGENCIES_EN[agency.code]
        if getattr(agency, "kind", None) == "service_station":
            return _("Service station")
    return agency.short_name or agency.name


def lane(task) -> str:
    """A task's lane as people say it: agency short name and role."""
    return f"{agency_short(task.agency)} · {label(ROLES, task.role)}"


def register(app) -> None:
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLES, CONFIDENTIALITY_LABELS=CONFIDENTIALITY, TASK_STATE_LABELS=TASK_STATES,
        INSTANCE_STATE_LABELS=INSTANCE_STATES, EVENT_LABELS=EVENTS, label=label, lane_label=lane,
        agency_short=agency_short, approver_label=approver_label,
        event_detail=event_detail, EVIDENCE_KIND_LABELS=EVIDENCE_KINDS,
        document_kind=document_kind, message_label=message_label, ACTION_ITEM_STATE_LABELS=ACTION_ITEM_STATES,
    )
