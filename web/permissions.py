"""Policy results for templates: `can('claim', task)` in a template asks engine.policy, so no
template decides a permission itself."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user

from engine import policy

from .db import db


def can(action: str, resource: Any = None) -> bool:
    """Whether the logged-in user may do `action` to `resource` (False when logged out)."""
    if not current_user.is_authenticated:
        return False
    return policy.allowed(db.session, current_user.model, action, resource)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(can=can)
