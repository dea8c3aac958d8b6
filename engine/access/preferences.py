"""A user's own settings: the language of the pages and the address notifications are mailed to."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.access import audit
from engine.access.users import is_email
from engine.errors import InvalidInput
from engine.runtime.transactions import transactional
from models import User

# The languages the pages are translated into; None follows the browser.
LANGUAGES = ("zh_CN", "en")


@transactional
def set_language(session: Session, actor: User, language: str | None) -> User:
    """Store the language the actor's pages are shown in (None: the browser decides)."""
    if language is not None and language not in LANGUAGES:
        raise InvalidInput(f"unknown language {language!r}", {"language": [f"must be one of {LANGUAGES}"]})
    before = actor.language
    actor.language = language
    audit.record(session, "language_set", actor=actor, detail={"before": before, "after": language})
    return actor


@transactional
def set_email(session: Session, actor: User, email: str | None) -> User:
    """Store the address the actor's notifications are mailed to (None or empty: no mail).
    Audited without the address itself, which is personal data."""
    email = (email or "").strip() or None
    if email is not None and not is_email(email):
        raise InvalidInput(f"not an email address: {email!r}", {"email": ["must be an email address (name@host)"]})
    changed = actor.email != email
    actor.email = email
    if changed:
        audit.record(session, "email_set", actor=actor, detail={"has_email": email is not None})
    return actor
