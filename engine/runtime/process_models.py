"""Process models as users see them: the deployed mechanisms, and deploying one by name.

Deploying a diagram is deploying code (its scripts run in the engine), so a file reaches the
server's workflows folder only through an operator with shell access; an administrator then
activates it by name. Nothing is uploaded through the web.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import policy
from engine.errors import DeployError, Forbidden, InvalidInput, NotFound
from engine.runtime.deploy import DeployResult, deploy_paths
from models import ProcessModel, User

NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")


def latest_models(session: Session) -> Sequence[ProcessModel]:
    """The newest version of each mechanism (the one new instances start on), by key."""
    newest = select(func.max(ProcessModel.id)).group_by(ProcessModel.key)
    return session.scalars(
        select(ProcessModel).where(ProcessModel.id.in_(newest)).order_by(ProcessModel.key)
    ).all()


def deploy_named(session: Session, actor: User, folder: Path, name: str) -> DeployResult:
    """Deploy `folder/<name>.bpmn` with its DMN tables and forms; administrators only.

    One transaction with a `process_model_deployed` event when the content is new; unchanged
    content returns the existing version (created False). A missing file is NotFound, a broken
    one InvalidInput naming the file, element and reason under `name`.
    """
    if not policy.can_administer(actor):
        raise Forbidden("only administrators deploy process models")
    if not NAME.fullmatch(name or ""):
        raise InvalidInput("cannot deploy", {"name": ["must be a process model key: a-z, 0-9 and _"]})
    path = Path(folder) / f"{name}.bpmn"
    if not path.is_file():
        raise NotFound(f"no file {name}.bpmn in the server's workflows folder")
    try:
        return deploy_paths(session, [path], actor)[0]
    except DeployError as exc:
        raise InvalidInput("cannot deploy", {"name": [exc.message]}) from exc
