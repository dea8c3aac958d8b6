"""The busiest responses written as plain dicts: a task (claim, complete, show), an inbox page,
a task just claimed, a case (open, show).

The marshmallow schemas in schemas.py stay the API's contract: they write the OpenAPI document,
and `dumped_by` hands flask-smorest an instance of the documented schema whose `dump` is one of
the builders below. Each builder gives exactly what the schema's own dump gives (the same
fields, None where the schema gives null, times in ISO 8601, text as str);
tests/web/test_api_dumps.py holds the two side by side on real rows. What it saves: marshmallow
looks every field up through its accessor chain, ~15 calls a field, ~300 for an inbox row and
~900 for a case with its tasks, on every API request that answers one.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from sqlalchemy.orm import object_session

import engine
from web.db import db

from . import schemas


def dumped_by(schema: type[ma.Schema], build: Callable[[Any], dict]) -> ma.Schema:
    """The documented `schema` (as flask-smorest documents it), its responses written by `build`."""
    instance = schema()
    instance.dump = lambda obj, *, many=None: build(obj)  # type: ignore[method-assign]
    return instance


def _time(value) -> str | None:
    return None if value is None else value.isoformat()


def _username(user) -> str | None:
    return None if user is None else user.username


def task(t) -> dict[str, Any]:
    """schemas.Task."""
    return {
        "id": t.id, "case_id": t.case_id, "case_number": t.case.number, "instance_id": t.instance_id,
        "bpmn_id": t.bpmn_id, "title": t.title, "lane": t.lane, "state": str(t.state),
        "assignee": _username(t.assignee), "claimed_at": _time(t.claimed_at), "created_at": _time(t.created_at),
        "due_at": _time(t.due_at), "due_provisional": bool(t.due_provisional), "due_rule": schemas.due_rule(t),
        "handoff": t.handoff, "form_name": t.form_name, "completed_at": _time(t.completed_at),
        "completed_by": _username(t.completed_by),
    }


def task_line(t, case_number: str) -> dict[str, Any]:
    """schemas.Task of a task's line (engine/oversight/queries.py `inbox` and
    engine/oversight/case_reads.py `case_tasks` with `lines`: its columns, its lane as text, its
    users' usernames)."""
    return {
        "id": t.id, "case_id": t.case_id, "case_number": case_number, "instance_id": t.instance_id,
        "bpmn_id": t.bpmn_id, "title": t.title, "lane": t.lane, "state": str(t.state),
        "assignee": t.assignee_name, "claimed_at": _time(t.claimed_at), "created_at": _time(t.created_at),
        "due_at": _time(t.due_at), "due_provisional": bool(t.due_provisional), "due_rule": schemas.due_rule(t),
        "handoff": t.handoff, "form_name": t.form_name, "completed_at": _time(t.completed_at),
        "completed_by": t.completed_by_name,
    }


class Line:
    """A task's line as the documented schemas read a task (`case.number`, `assignee.username`,
    ...), for their dump beside the builders' (tests/web/test_api_dumps.py); the builders read
    `line` itself; an inbox line holds its case's number and title."""

    def __init__(self, line, subject=None) -> None:
        self.line, self.subject = line, subject

    def __getattr__(self, name: str):
        return getattr(self.line, name)

    @property
    def case(self):
        return _Named(number=self.line.case_number, title=self.line.case_title)

    @property
    def assignee(self):
        return _user(self.line.assignee_name)

    @property
    def completed_by(self):
        return _user(self.line.completed_by_name)


class _Named:
    def __init__(self, **values) -> None:
        self.__dict__.update(values)


def _user(username: str | None):
    return None if username is None else _Named(username=username)


def task_detail(t) -> dict[str, Any]:
    """schemas.TaskDetail: the task with the JSON Schema of its form."""
    out = task(t)
    out["form"] = engine.task_form(object_session(t), t)
    return out


def claimed_detail(t) -> dict[str, Any]:
    """schemas.TaskDetail of a task just claimed (engine/casework/tasks.py `ClaimedTask`: the
    columns of its line, its case's number and its process model)."""
    out = task_line(t, t.case_number)
    out["form"] = engine.definition(db.session, t.process_model_id).form(t.form_name)
    return out


def inbox_page(page) -> dict[str, Any]:
    """schemas.InboxPage, of `Line`s of the inbox's lines (a task with its case's number and
    title and its hand-over) and their subjects."""
    items = []
    for row in page.items:
        line = row.line
        out = task_line(line, line.case_number)
        out["case_title"] = line.case_title
        out["subject"] = row.subject
        out["handed_over_by"] = line.handed_over_by
        out["handed_over_at"] = _time(line.handed_over_at)
        items.append(out)
    return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page, "pages": page.pages}


def instance(i) -> dict[str, Any]:
    """schemas.Instance: its process model's key, name and version from the engine's definitions."""
    model = engine.definition(object_session(i), i.process_model_id)
    return {"id": i.id, "process": model.key, "process_name": model.name, "version": model.version[:12],
            "status": str(i.status), "started_at": _time(i.started_at), "completed_at": _time(i.completed_at)}


def instance_line(i, session) -> dict[str, Any]:
    """schemas.Instance of an instance's line (engine/oversight/case_reads.py `case_instances` with
    `lines`)."""
    model = engine.definition(session, i.process_model_id)
    return {"id": i.id, "process": model.key, "process_name": model.name, "version": model.version[:12],
            "status": str(i.status), "started_at": _time(i.started_at), "completed_at": _time(i.completed_at)}


def case_detail(view) -> dict[str, Any]:
    """schemas.CaseDetail, of web/api/cases.py's CaseView (a case with its instances and tasks,
    as lines when it was read, as entities when just opened)."""
    line = view.line
    if line is None:
        case = view.case
        return {
            "id": case.id, "number": case.number, "title": case.title,
            "confidentiality": str(case.confidentiality), "owner_agency": case.owner_agency.code,
            "created_by": case.created_by.username, "created_at": _time(case.created_at),
            "participants": [{"agency": p.agency.code, "agency_name": p.agency.name, "joined_at": _time(p.joined_at)}
                             for p in case.participants],
            "instances": [instance(i) for i in view.instances], "tasks": [task(t) for t in view.tasks],
        }
    case, session = line.case, db.session
    number = case.number
    return {
        "id": case.id, "number": number, "title": case.title, "confidentiality": str(case.confidentiality),
        "owner_agency": case.owner_agency, "created_by": case.created_by, "created_at": _time(case.created_at),
        "participants": [{"agency": p.agency, "agency_name": p.agency_name, "joined_at": _time(p.joined_at)}
                         for p in line.participants],
        "instances": [instance_line(i, session) for i in view.instance_lines],
        "tasks": [task_line(t, number) for t in view.task_lines],
    }


TASK_DETAIL = dumped_by(schemas.TaskDetail, task_detail)
CLAIMED_DETAIL = dumped_by(schemas.TaskDetail, claimed_detail)
INBOX_PAGE = dumped_by(schemas.InboxPage, inbox_page)
CASE_DETAIL = dumped_by(schemas.CaseDetail, case_detail)
