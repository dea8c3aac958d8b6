"""The task inbox and its actions: claim, unclaim, complete, and reassign (liaisons)."""
from __future__ import annotations

from flask_smorest import Blueprint

import engine
from web import labels
from web.db import db

from . import dumps, schemas
from .auth import api_user, guard
from .problems import documented

bp = Blueprint("api_tasks", __name__, url_prefix="/api/v1/tasks", description="Task inbox and actions")
guard(bp)
TASK = f"/<{schemas.ID}:task_id>"


class _TaskLine:
    """An inbox task entity under a line's names (engine/oversight/queries.py `inbox` with
    `lines`), for a page read as entities: what each task is about reads them."""

    def __init__(self, task, handover) -> None:
        self.task = task
        self.handed_over_by = handover.by if handover else None
        self.handed_over_at = handover.at if handover else None

    def __getattr__(self, name):
        return getattr(self.task, name)

    @property
    def case_number(self):
        return self.task.case.number

    @property
    def case_title(self):
        return self.task.case.title

    @property
    def assignee_name(self):
        return self.task.assignee.username if self.task.assignee else None

    @property
    def completed_by_name(self):
        return self.task.completed_by.username if self.task.completed_by else None


@bp.route("", methods=["GET"])
@bp.arguments(schemas.InboxArgs(), location="query")
@bp.response(200, dumps.INBOX_PAGE)
@documented(bp)
def inbox(args):
    """My inbox: open tasks of my lanes nobody has claimed, and tasks claimed by me, soonest
    deadline first; narrowed by mechanism, case and due window as the inbox page is. Each task
    comes with its case title, its due rule and who handed it over when, and with
    `subjects=true` what it is about."""
    session, user = db.session, api_user()
    narrow = engine.InboxFilter(mechanism=args.get("mechanism"), case=args.get("case"), due=args.get("due"),
                                now=db.clock.now(), sort=args["sort"])
    query = (session, user, args["view"], args["page"], args["per_page"], args.get("case_id"), narrow)
    if not args["subjects"]:
        # The page as lines: the columns the answer shows, no entities.
        page = engine.inbox(*query, lines=True)
        return engine.Page([dumps.Line(line) for line in page.items], page.total, page.page, page.per_page)
    # What each task is about reads its instance: asked for, not given by default, and read from
    # the entities.
    tasks = engine.inbox(*query)
    subjects = engine.task_subjects(session, user, tasks.items)
    rows = [dumps.Line(_TaskLine(task, tasks.handovers.get(task.id)), subject=_line(subjects.get(task.id)))
            for task in tasks.items]
    return engine.Page(rows, tasks.total, tasks.page, tasks.per_page)


def _line(line) -> dict | None:
    if line is None:
        return None
    return {"title": labels.context_text(line[0]), "text": labels.context_text(line[1]),
            "evidence_id": line[2] if len(line) > 2 else None}


@bp.route(TASK, methods=["GET"])
@bp.response(200, dumps.TASK_DETAIL)
@documented(bp, 404)
def show_task(task_id: int):
    """A task with the JSON Schema of the data that completes it."""
    return engine.visible_task(db.session, api_user(), task_id)


@bp.route(f"{TASK}/claim", methods=["POST"])
@bp.response(200, dumps.CLAIMED_DETAIL)
@documented(bp, 403, 404, 409)
def claim(task_id: int):
    """Claim an open task of one of my lanes; 409 if someone else was first."""
    # The claim's one statement returns the task's columns with its case's number and its
    # process model, so the answer (case number, form) reads nothing again (engine/casework/tasks.py).
    return engine.claim_task(db.session, api_user(), task_id)


@bp.route(f"{TASK}/unclaim", methods=["POST"])
@bp.response(200, dumps.TASK_DETAIL)
@documented(bp, 403, 404, 409)
def unclaim(task_id: int):
    """Give a claimed task back to its lane (its assignee, or a liaison of its agency)."""
    return engine.unclaim_task(db.session, api_user(), task_id)


@bp.route(f"{TASK}/complete", methods=["POST"])
@bp.arguments(schemas.TaskCompletion())
@bp.response(200, dumps.TASK_DETAIL)
@documented(bp, 403, 404, 409)
def complete(args, task_id: int):
    """Complete a task I claimed with its form data; 422 names each invalid field. What happens
    next, and my next task, is GET .../next."""
    return engine.complete_task(db.session, api_user(), task_id, args["data"])


@bp.route(f"{TASK}/next", methods=["GET"])
@bp.response(200, schemas.NextWork)
@documented(bp, 404)
def next_work(task_id: int):
    """What happens after a task: the case's open tasks now and my next task."""
    session, user = db.session, api_user()
    return engine.next_work(session, user, engine.visible_task(session, user, task_id))


@bp.route(f"{TASK}/reassign", methods=["POST"])
@bp.arguments(schemas.Reassignment())
@bp.response(200, dumps.TASK_DETAIL)
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
