"""The busiest responses written as plain dicts: a task (claim, complete, show), an inbox page,
a case (open, show).

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


def task_detail(t) -> dict[str, Any]:
    """schemas.TaskDetail: the task with the JSON Schema of its form."""
    out = task(t)
    out["form"] = engine.task_form(object_session(t), t)
    return out


def inbox_page(page) -> dict[str, Any]:
    """schemas.InboxPage, of web/api/tasks.py's rows (a task with its case title, subject and
    hand-over)."""
    items = []
    for row in page.items:
        out = task(row.task)
        out["case_title"] = row.task.case.title
        out["subject"] = row.subject
        out["handed_over_by"] = row.handed_over_by
        out["handed_over_at"] = _time(row.handed_over_at)
        items.append(out)
    return {"items": items, "total": page.total, "page": page.page, "per_page": page.per_page, "pages": page.pages}


def instance(i) -> dict[str, Any]:
    """schemas.Instance: its process model's key, name and version from the engine's definitions."""
    model = engine.definition(object_session(i), i.process_model_id)
    return {"id": i.id, "process": model.key, "process_name": model.name, "version": model.version[:12],
            "status": str(i.status), "started_at": _time(i.started_at), "completed_at": _time(i.completed_at)}


def case_detail(view) -> dict[str, Any]:
    """schemas.CaseDetail, of web/api/cases.py's CaseView (a case with its instances and tasks)."""
    case = view.case
    return {
        "id": case.id, "number": case.number, "title": case.title, "confidentiality": str(case.confidentiality),
        "owner_agency": case.owner_agency.code, "created_by": case.created_by.username,
        "created_at": _time(case.created_at),
        "participants": [{"agency": p.agency.code, "agency_name": p.agency.name, "joined_at": _time(p.joined_at)}
                         for p in case.participants],
        "instances": [instance(i) for i in view.instances],
        "tasks": [task(t) for t in view.tasks],
    }


TASK_DETAIL = dumped_by(schemas.TaskDetail, task_detail)
INBOX_PAGE = dumped_by(schemas.InboxPage, inbox_page)
CASE_DETAIL = dumped_by(schemas.CaseDetail, case_detail)
