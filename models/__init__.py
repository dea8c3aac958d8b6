"""SQLAlchemy models. Knows nothing of the engine or the web."""
from .audit import SYSTEM_CHAIN, AuditChain, AuditEvent, case_chain
from .base import Base, UTCDateTime
from .calendar import CalendarDay
from .cases import CONFIDENTIALITY_LEVELS, Case, CaseParticipant
from .database import make_engine, make_session_factory
from .people import ROLES, Agency, Membership, User
from .workflow import HumanTask, Message, ProcessInstance, ProcessModel, Timer

__all__ = [
    "SYSTEM_CHAIN", "AuditChain", "AuditEvent", "case_chain", "Base", "UTCDateTime",
    "CalendarDay", "CONFIDENTIALITY_LEVELS", "Case", "CaseParticipant", "make_engine", "make_session_factory",
    "ROLES", "Agency", "Membership", "User", "HumanTask", "Message", "ProcessInstance",
    "ProcessModel", "Timer",
]
