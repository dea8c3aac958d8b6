"""A user's own settings: the language of the pages."""
from __future__ import annotations

from sqlalchemy.orm import Session

from models import User

from . import audit
from .errors import InvalidInput
from .transactions import transactional

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
