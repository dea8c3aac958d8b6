"""SQLAlchemy models. Knows nothing of the engine or the web."""
from .audit import SYSTEM_CHAIN, AuditChain, AuditEvent, case_chain
from .base import Base, UTCDateTime
from .calendar import CalendarDay
from .cases import CONFIDENTIALITY_LEVELS, PARTICIPANT_ROLES, Case, CaseParticipant
from .clues import CLUE_SOURCES, CLUE_STATUSES, Clue, ClueAttachment
from .comments import TaskComment
from .consultation import ACTION_KINDS, ACTION_STATES, ConsultationActionItem
from .database import close_session, make_engine, make_session_factory
from .documents import Document, DocumentCounter
from .evidence import EVIDENCE_KINDS, EvidenceCustody, EvidenceItem
from .handoffs import StandingApproval
from .notifications import NOTIFICATION_KINDS, DeadlineNotice, Notification
from .parties import DELIVERY_METHODS, HOLDER_KINDS, NoticeDelivery, RightsHolder
from .people import AGENCY_KINDS, ROLES, Agency, Membership, User
from .recognition import VERDICTS, EvidencePackage, PackageItem
from .results import (
    MEASURE_KINDS,
    RESULT_AGENCIES,
    RESULT_OUTCOMES,
    RESULT_STAGES,
    CaseClosure,
    CaseResult,
    CompulsoryMeasure,
)
from .sharing import GrantViewer, InformationGrant, InformationRequest
from .tokens import ApiToken
from .workflow import (
    HumanTask,
    HumanTaskState,
    InstanceStatus,
    Message,
    MessageStatus,
    ProcessInstance,
    ProcessModel,
    Timer,
    TimerStatus,
)

__all__ = [
    "SYSTEM_CHAIN", "AuditChain", "AuditEvent", "case_chain", "Base", "UTCDateTime",
    "CalendarDay", "Document", "DocumentCounter", "CONFIDENTIALITY_LEVELS", "Case", "CaseParticipant", "make_engine",
    "make_session_factory", "close_session", "PARTICIPANT_ROLES",
    "ROLES", "Agency", "Membership", "User", "HumanTask", "Message", "ProcessInstance",
    "HumanTaskState", "InstanceStatus", "MessageStatus", "TimerStatus",
    "ProcessModel", "Timer", "ApiToken", "EVIDENCE_KINDS", "EvidenceCustody", "EvidenceItem",
    "NOTIFICATION_KINDS", "DeadlineNotice", "Notification",
    "TaskComment", "ACTION_KINDS", "ACTION_STATES", "ConsultationActionItem",
    "HOLDER_KINDS", "DELIVERY_METHODS", "RightsHolder", "NoticeDelivery",
    "CLUE_SOURCES", "CLUE_STATUSES", "Clue", "ClueAttachment", "AGENCY_KINDS",
    "VERDICTS", "EvidencePackage", "PackageItem",
    "RESULT_STAGES", "RESULT_AGENCIES", "RESULT_OUTCOMES", "MEASURE_KINDS", "CaseResult", "CompulsoryMeasure",
    "CaseClosure", "GrantViewer", "InformationGrant", "InformationRequest", "StandingApproval",
]
