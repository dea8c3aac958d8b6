"""A task page: its case context, its form, and the claim / unclaim / complete actions.

The actions answer with a redirect (303) to the task page. When the engine refuses one with
Conflict (someone else was first) or Forbidden (not your task), the reason is flashed and the
user lands back on the task, whose page shows the current state. A form that breaks its schema
is shown again with the errors next to their fields and the submitted values kept (422).
"""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

import engine
from engine import MAX_COMMENT_LENGTH as MAX_COMMENT
from engine import case_documents, policy
from models import HumanTaskState

from . import forms, labels, workflow_text
from .auth import actor
from .db import db

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


def _schema(task) -> dict:
    """The task's form, its titles in the page's language."""
    return workflow_text.translate_schema(engine.task_form(db.session, task))


def _form(task) -> dict:
    """The task's form with the options the engine offers this user for its `x-choices` fields."""
    offered = engine.form_choices(db.session, actor(), task)
    return forms.with_choices(_schema(task), {
        name: [(value, _choice_label(text)) for value, text in options] for name, options in offered.items()})


def _choice_label(text) -> str:
    """An engine-offered option in the page's language: its code worded (labels.context_text),
    or, an option the form itself names (an agency), the form's English title."""
    return workflow_text.translate(text) if isinstance(text, str) else labels.context_text(text)


def _decisions(task) -> list[tuple[str, str]]:
    """What a completed task decided: its workflow variables, labelled by its form.

    Only fields marked x-variable are shown; the rest of a result (facts, free text) may be
    confidential to the agency that wrote it.
    """
    schema, result = _schema(task), task.result or {}
    shown = []
    for name, prop in schema.get("properties", {}).items():
        if not prop.get("x-variable") or name not in result:
            continue
        shown.append((prop.get("title") or name, forms.display_value(prop, result[name])))
    return shown


def _render(task, values=None, errors=None, status=200, comment=None):
    session, user = db.session, actor()
    case = task.case
    history = [t for t in engine.case_tasks(session, case) if t.state == HumanTaskState.COMPLETED]
    form = _form(task)
    if values is None and task.state == HumanTaskState.OPEN and task.assignee_id == user.id:
        values = _carried(form, engine.carried_values(session, user, task))
    fields = forms.render_fields(form, values, errors)
    # Supervisors (and, in a secret case, users not assigned to it) see who did what and when,
    # never what a task was completed with.
    content = policy.can_view_task_content(session, user, task)
    candidates = [u for u in engine.lane_users(session, task) if u.id != task.assignee_id] \
        if policy.can_reassign(user, task) else []
    return render_template(
        "tasks/task.html", task=task, case=case, schema=_schema(task), fields=fields,
        history=[(t, _decisions(t) if content else []) for t in history], content=content,
        form_errors=(errors or {}).get("", []), now=db.clock.now(), candidates=candidates,
        context=[(labels.context_text(title), labels.context_text(value), *link)
                 for title, value, *link in engine.task_context(session, user, task)],
        documents=case_documents(session, user, case.id),
        attachments=[item for item in engine.list_evidence(session, user, case.id)
                     if item.has_file and policy.can_open_evidence(session, user, item)],
        comments=engine.task_comments(session, user, task),
        can_comment=policy.can_comment(session, user, task),
        comment=comment or {"body": "", "errors": []},
    ), status


def _carried(form, carried: dict) -> dict | None:
    """The form's fields as the page first shows them: what the case already recorded
    (engine.carried_values), else each field's default; None when nothing is carried."""
    if not carried:
        return None

    def shown(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else value if isinstance(value, str) else json.dumps(value)

    values: dict = {}
    for name, prop in form.get("properties", {}).items():
        value = carried.get(name, prop.get("default"))
        values[name] = [shown(v) for v in value or []] if prop.get("type") == "array" else shown(value)
    return values


@bp.route("/<int:task_id>")
@login_required
def show(task_id: int):
    return _render(engine.visible_task(db.session, actor(), task_id))


def _refusals(action: str) -> dict[type, str]:
    """Why an action was refused, per engine error; the engine's own messages are English."""
    return {
        "claim": {engine.Forbidden: _("This task belongs to a lane you do not work in."),
                  engine.Conflict: _("The task was claimed or completed by someone else first.")},
        "unclaim": {engine.Forbidden: _("Only the assignee or a liaison of the agency can release this task."),
                    engine.Conflict: _("The task is not claimed.")},
        "complete": {engine.Forbidden: _("Claim the task before completing it."),
                     engine.Conflict: _("The task was completed or changed by someone else meanwhile.")},
        "assign": {engine.Forbidden: _("Only a liaison of the agency can assign this task, to a user of its lane."),
                   engine.Conflict: _("The task was claimed or completed by someone else first.")},
    }[action]


def _refused(action: str, task_id: int, exc: engine.EngineError):
    flash(next(m for cls, m in _refusals(action).items() if isinstance(exc, cls)), "error")
    return redirect(url_for("tasks.show", task_id=task_id), code=303)


def _act(task_id: int, action: str, service, done_message: str):
    try:
        service(db.session, actor(), task_id)
    except (engine.Conflict, engine.Forbidden) as exc:
        return _refused(action, task_id, exc)
    flash(done_message, "info")
    return redirect(url_for("tasks.show", task_id=task_id), code=303)


@bp.route("/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    return _act(task_id, "claim", engine.claim_task, _("You claimed the task."))


@bp.route("/<int:task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id: int):
    return _act(task_id, "unclaim", engine.unclaim_task, _("The task was released to its lane."))


@bp.route("/<int:task_id>/complete", methods=["POST"])
@login_required
def complete(task_id: int):
    session, user = db.session, actor()
    task = engine.visible_task(session, user, task_id)
    form = _form(task)
    values = forms.posted_values(form, request.form)
    data, errors = forms.coerce(form, request.form)
    # A task not claimed by the user is refused by the engine before its data is looked at.
    if errors and task.assignee_id == user.id:
        return _render(task, values, errors, 422)
    try:
        engine.complete_task(session, user, task_id, data)
    except engine.InvalidInput as exc:
        return _render(engine.visible_task(session, user, task_id), values, exc.errors, 422)
    except (engine.Conflict, engine.Forbidden) as exc:
        return _refused("complete", task_id, exc)
    flash(_("Task completed: %(title)s", title=workflow_text.translate(task.title)), "info")
    return redirect(url_for("tasks.done", task_id=task_id), code=303)


@bp.route("/<int:task_id>/done")
@login_required
def done(task_id: int):
    """What happens after a task: the case's open tasks now (their lanes and deadlines), and the
    user's next task, of this case first, so the completer need not look for either."""
    session, user = db.session, actor()
    task = engine.visible_task(session, user, task_id)
    work = engine.next_work(session, user, task)
    return render_template("tasks/done.html", task=task, case=task.case, following=work.following,
                           next_task=work.next_task, now=db.clock.now())


@bp.route("/approve", methods=["POST"])
@login_required
def approve_batch():
    """A liaison approves the ticked hand-offs of their inbox: each claimed and completed on
    its own (engine.approve_handoffs); what was refused is said task by task."""
    session, user = db.session, actor()
    ids = [int(v) for v in request.form.getlist("task_id") if v.isdigit()]
    if not ids:
        flash(_("Tick the hand-offs to approve."), "error")
        return redirect(url_for("inbox.index"), code=303)
    try:
        outcomes = engine.approve_handoffs(session, user, ids)
    except engine.InvalidInput:
        flash(_("Approve at most %(count)s hand-offs at once.", count=engine.MAX_BATCH_APPROVALS), "error")
        return redirect(url_for("inbox.index"), code=303)
    approved = sum(1 for o in outcomes if o.approved)
    if approved:
        flash(_("%(count)s hand-offs approved.", count=approved), "info")
    for outcome in outcomes:
        if not outcome.approved:
            flash(_("Task %(id)s was not approved: %(reason)s", id=outcome.task_id,
                    reason=_batch_refusal(outcome.error)), "error")
    return redirect(url_for("inbox.index"), code=303)


def _batch_refusal(error) -> str:
    if isinstance(error, engine.NotFound):
        return _("it does not exist or is not yours to see.")
    if isinstance(error, engine.InvalidInput):
        return _("its form asks more than an approval: open the task.")
    if isinstance(error, engine.Forbidden):
        return _("it belongs to a lane you do not work in, or someone else holds it.")
    return _("it was claimed or completed by someone else first.")


@bp.route("/<int:task_id>/assign", methods=["POST"])
@login_required
def assign(task_id: int):
    """A liaison gives the task to a user of its lane (engine.assign_task: delegated while
    unclaimed, reassigned from its assignee otherwise)."""
    session, user = db.session, actor()
    task = engine.visible_task(session, user, task_id)
    assignee_id = request.form.get("assignee_id", type=int)
    assignee = next((u for u in engine.lane_users(session, task) if u.id == assignee_id), None)
    if assignee is None:
        flash(_("Choose a user of the task's lane."), "error")
        return redirect(url_for("tasks.show", task_id=task_id), code=303)
    try:
        engine.assign_task(session, user, task_id, assignee)
    except (engine.Conflict, engine.Forbidden) as exc:
        return _refused("assign", task_id, exc)
    flash(_("The task was assigned to %(name)s.", name=assignee.display_name), "info")
    return redirect(url_for("tasks.show", task_id=task_id), code=303)


@bp.route("/<int:task_id>/comments", methods=["POST"])
@login_required
def add_comment(task_id: int):
    """Add a comment; an empty or overlong one is shown again with its error (422)."""
    session, user = db.session, actor()
    body = request.form.get("body", "")
    try:
        engine.add_comment(session, user, task_id, body)
    except engine.InvalidInput:
        errors = [_("Write a comment of 1 to %(max)s characters.", max=MAX_COMMENT)]
        return _render(engine.visible_task(session, user, task_id), status=422,
                       comment={"body": body, "errors": errors})
    except engine.Forbidden:
        flash(_("You cannot comment on this task."), "error")
        return redirect(url_for("tasks.show", task_id=task_id), code=303)
    flash(_("Your comment was added."), "info")
    return redirect(url_for("tasks.show", task_id=task_id, _anchor="comments"), code=303)
