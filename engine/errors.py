"""Errors raised by engine service functions. They say what went wrong, not how to answer it:
the web layer maps each class to one HTTP status (web/errors.py)."""
from __future__ import annotations


class EngineError(Exception):
    """Base of every error a caller is expected to handle."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(EngineError):
    """The thing does not exist, or the actor may not know that it exists."""


class Forbidden(EngineError):
    """The actor may see the thing but not do this to it."""


class Conflict(EngineError):
    """Someone else changed the thing first (claimed the task, advanced the instance)."""


class StaleState(Conflict):
    """Another writer saved the same process instance first (its version moved on): nothing was
    written, and the same action may succeed when retried from the fresh state."""


class InvalidInput(EngineError):
    """Submitted data broke its schema; `errors` maps each field path to its reasons."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class DeployError(EngineError):
    """A process model file is broken. Names the file, the element (when known) and why."""

    def __init__(self, file: str, reason: str, element: str | None = None, line: int | None = None):
        where = file + (f":{line}" if line else "") + (f" [{element}]" if element else "")
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.element = element
        self.line = line
        self.reason = reason


class WorkflowError(EngineError):
    """A script or condition in a diagram failed; the instance is put in the error state."""


class TooLarge(EngineError):
    """An upload is larger than the configured limit."""


class EvidenceCorrupted(EngineError):
    """A stored evidence file no longer matches the SHA-256 recorded when it was uploaded (or
    is gone). It is reported and recorded, never served."""
