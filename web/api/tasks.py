"""The task inbox and its actions: claim, unclaim, complete, and reassign (liaisons)."""
from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

import engine
from engine import load_task_context
from web.db import db

from . import schemas
from .auth import api_user, guard
from .problems import documented

bp = Blueprint("api_tasks", __name__, url_prefix="/api/v1/tasks", description="Task inbox and actions")
guard(bp)
TASK = f"/<{schemas.ID}:task_id>"


def _preload(task_id: int) -> None:
    """Load the task's case and instance with it, held until the answer is written (after the
    view returns): engine/oversight/queries.py load_task_context."""
    g.api_task_context = load_task_context(db.session, task_id)


@bp.route("", methods=["GET"])
@bp.arguments(schemas.InboxArgs(), location="query")
@bp.response(200, schemas.TaskPage)
@documented(bp)
def inbox(args):
    """My inbox: open tasks of my lanes nobody has claimed, and tasks claimed by me, soonest
    deadline first."""
    return engine.inbox(db.session, api_user(), args["view"], args["page"], args["per_page"],
                        case_id=args.get("case_id"))


@bp.route(TASK, methods=["GET"])
@bp.response(200, schemas.TaskDetail)
@documented(bp, 404)
def show_task(task_id: int):
    """A task with the JSON Schema of the data that completes it."""
    return engine.visible_task(db.session, api_user(), task_id)


@bp.route(f"{TASK}/claim", methods=["POST"])
@bp.response(200, schemas.TaskDetail)
@documented(bp, 403, 404, 409)
def claim(task_id: int):
    """Claim an open task of one of my lanes; 409 if someone else was first."""
    # The answer shows the case number and the form: one query for them with the task.
    _preload(task_id)
    return engine.claim_task(db.session, api_user(), task_id)


@bp.route(f"{TASK}/unclaim", methods=["POST"])
@bp.response(200, schemas.TaskDetail)
@documented(bp, 403, 404, 409)
def unclaim(task_id: int):
    """Give a claimed task back to its lane (its assignee, or a liaison of its agency)."""
    return engine.unclaim_task(db.session, api_user(), task_id)


@bp.route(f"{TASK}/complete", methods=["POST"])
@bp.arguments(schemas.TaskCompletion())
@bp.response(200, schemas.TaskDetail)
@documented(bp, 403, 404, 409)
def complete(args, task_id: int):
    """Complete a task I claimed with its form data; 422 names each invalid field."""
    return engine.complete_task(db.session, api_user(), task_id, args["data"])


@bp.route(f"{TASK}/reassign", methods=["POST"])
@bp.arguments(schemas.Reassignment())
@bp.response(200, schemas.TaskDetail)
@documented(bp, 403, 404, 409)
def reassign(args, task_id: int):
    """A liaison hands an open task to another user of its lane: delegated while nobody holds
    it, taken from its assignee otherwise (the same action as on the task page)."""
    session, user = db.session, api_user()
    task = engine.visible_task(session, user, task_id)
    try:
        assignee = engine.find_user(session, args["assignee"])
    except engine.NotFound as exc:
        raise engine.InvalidInput("cannot reassign", {"assignee": [exc.message]}) from exc
    return engine.assign_task(session, user, task.id, assignee)
