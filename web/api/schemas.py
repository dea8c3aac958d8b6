"""marshmallow schemas of the API's requests and responses; they also write the OpenAPI spec.

Rules about content (a form's fields, which agencies take part) are the engine's, which answers
422 with field errors; these schemas say what shape a request has, and state in the OpenAPI
document each constraint the server enforces on a field by itself (lengths, non-blank text, no
NUL, the deploy name's pattern), so a request the document calls valid is not refused for it.
"""
from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy.orm import object_session

import engine
from engine import DUE_WINDOWS, INBOX_SORTS, INBOX_VIEWS
from models import CONFIDENTIALITY_LEVELS

# Ids are 32-bit integers in PostgreSQL; a bigger number can only be a wrong id.
MAX_ID = 2**31 - 1
ID = f"int(min=1, max={MAX_ID})"


# NUL, which PostgreSQL cannot store. Lone UTF-16 surrogates are refused too, but a pattern
# cannot say so: validators that read the document as UTF-8 text (Rust's regex, behind
# schemathesis) cannot name a surrogate and drop such a pattern whole, NUL rule included.
TEXT_PATTERN = "^[^\\u0000]*$"
# Not only whitespace: the characters Python's str.strip() removes (the engine strips what it
# stores), which are \s and also the four separators U+001C-U+001F and NEL.
_SPACE = "\\s\\u001c-\\u001f\\u0085"
NOT_BLANK_PATTERN = f"^[^\\u0000]*[^{_SPACE}\\u0000][^\\u0000]*$"
_SURROGATE = re.compile("[\ud800-\udfff]")


class Text(fields.String):
    """A string without NUL characters or lone surrogates; with `blank=False`, also not only
    whitespace (the engine strips what it stores). The document states it as a pattern."""

    def __init__(self, *args, blank: bool = True, **kwargs):
        metadata = {"pattern": TEXT_PATTERN if blank else NOT_BLANK_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(*args, metadata=metadata, **kwargs)
        self.blank = blank

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("must not contain NUL characters")
        if _SURROGATE.search(text):
            raise ma.ValidationError("must not contain unpaired surrogates (not valid Unicode)")
        if not self.blank and not text.strip():
            raise ma.ValidationError("required")  # as the engine says of a blank value
        return text


class Pattern(fields.String):
    """A string that matches `pattern` whole (fullmatch: no trailing newline slips through, as
    it would past a `$`); the document states the pattern."""

    def __init__(self, pattern: str, **kwargs):
        super().__init__(metadata={"pattern": f"^{pattern}$", **kwargs.pop("metadata", {})}, **kwargs)
        self.regex = re.compile(pattern)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.regex.fullmatch(text):
            raise ma.ValidationError(f"must match {self.metadata['pattern']}")
        return text


def rule(text: str, description: str = "") -> dict[str, str]:
    """Field metadata stating a rule JSON Schema cannot (one relating the value to another field,
    to the clock or to stored data): in the description, and as `x-rule` for tools that read the
    document. A request breaking it is answered 422 naming the field."""
    return {"description": f"{description}; {text}" if description else text, "x-rule": text}


def _id(**kwargs):
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kwargs)


class Dotted(fields.String):
    """A string read along an attribute path ("assignee.username"); a missing link gives null."""

    def __init__(self, path: str, **kwargs):
        super().__init__(required=True, **kwargs)
        self.path = path

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        for part in self.path.split("."):
            obj = getattr(obj, part) if obj is not None else None
        return obj


class ModelPart(fields.String):
    """A part of an instance's process model (its key, name, version), from the definitions the
    engine keeps in memory (engine/runtime/definitions.py): no query for the model row."""

    def __init__(self, part: str, length: int | None = None, **kwargs):
        super().__init__(required=True, **kwargs)
        self.part, self.length = part, length

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        value = getattr(engine.definition(object_session(obj), obj.process_model_id), self.part)
        return value[:self.length] if self.length else value


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- requests ----------------------------------------------------------------------------

class PageArgs(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class InboxArgs(PageArgs):
    view = fields.String(load_default="all", validate=validate.OneOf(INBOX_VIEWS),
                         metadata={"description": "all: claimable and mine; mine; claimable"})
    case_id = _id(metadata={"description": "only this case's tasks"})
    mechanism = Text(validate=validate.Length(1, 100), metadata={"description": "process model key"})
    case = Text(validate=validate.Length(1, 100),
                metadata={"description": "case number or part of its title (case-insensitive)"})
    due = fields.String(validate=validate.OneOf(DUE_WINDOWS), metadata={
        "description": "overdue: past its due time; week: due within 7 days; none: without a due time"})
    sort = fields.String(load_default="due", validate=validate.OneOf(INBOX_SORTS), metadata={
        "description": "due: soonest due first; -due: latest first (without a due time last, either way)"})
    subjects = fields.Boolean(load_default=False, metadata={
        "description": "true: each task says what it is about (`subject`), which reads its instance"})


class OverdueArgs(PageArgs):
    agency = Text(validate=validate.Length(1, 32), metadata={"description": "agency code"})
    mechanism = Text(validate=validate.Length(1, 100), metadata={"description": "process model key"})
    case_id = _id()


class CaseCreate(Strict):
    title = Text(required=True, blank=False, validate=validate.Length(1, 300))
    confidentiality = fields.String(load_default="confidential", validate=validate.OneOf(CONFIDENTIALITY_LEVELS))


class TaskCompletion(Strict):
    data = fields.Dict(keys=Text(), required=True, metadata={
        "propertyNames": {"pattern": TEXT_PATTERN},
        **rule("must satisfy the task's form (its JSON Schema is `form` of the task): numbers finite, "
               "text without NUL, nested at most 16 levels; 422 names each field",
               "the task form's fields")})


class Reassignment(Strict):
    assignee = Text(required=True, blank=False, validate=validate.Length(1, 80),
                    metadata=rule("an existing user (422 otherwise) who works in the task's lane", "username"))


class DeployRequest(Strict):
    name = Pattern("[a-z][a-z0-9_]{0,99}", required=True,
                   metadata={"description": "file stem of a .bpmn in the server's workflows folder"})


# --- responses ---------------------------------------------------------------------------

class Task(ma.Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    case_number = Dotted("case.number")
    instance_id = fields.Integer(required=True)
    bpmn_id = fields.String(required=True)
    title = fields.String(required=True)
    lane = fields.String(required=True, metadata={"description": "agency.role"})
    state = fields.String(required=True, metadata={"description": "open | completed | cancelled"})
    assignee = Dotted("assignee.username", allow_none=True)
    claimed_at = fields.DateTime(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    due_provisional = fields.Boolean(required=True)
    due_rule = fields.Function(
        lambda t: due_rule(t), allow_none=True, required=True,
        metadata={"type": "object", "nullable": True, "description":
                  "the legal period the due time follows (workflows/deadlines.toml): id, period counted, the "
                  "legal event it runs from (trigger, trigger_title) and when it happened (trigger_at, null when "
                  "the period runs from the task itself), statute; null for a task without a catalog rule"})
    handoff = fields.String(allow_none=True, required=True)
    form_name = fields.String(allow_none=True, required=True)
    completed_at = fields.DateTime(allow_none=True, required=True)
    completed_by = Dotted("completed_by.username", allow_none=True)


def due_rule(task) -> dict[str, Any] | None:
    """The API's view of a task's legal period, from what its row recorded when it opened."""
    if not task.deadline_rule_id:
        return None
    basis = task.deadline_basis or {}
    return {"id": task.deadline_rule_id, "period": task.deadline_rule, "trigger": basis.get("trigger"),
            "trigger_title": basis.get("trigger_title"),
            "trigger_at": task.deadline_trigger_at.isoformat() if task.deadline_trigger_at else None,
            "statute": basis.get("statute")}


class ContextLine(ma.Schema):
    title = fields.String(required=True)
    text = fields.String(required=True)
    evidence_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "the evidence item the line is about, if any"})


class InboxTask(Task):
    """A task as the inbox lists it: with what a handler chooses by."""

    case_title = Dotted("case.title")
    subject = fields.Nested(ContextLine, allow_none=True, required=True, metadata={
        "description": "what the task is about in one line (the evidence item under review, the "
                       "consultation's convener), in the request's language; null when its step says nothing or "
                       "`subjects` was not asked for"})
    handed_over_by = fields.String(allow_none=True, required=True, metadata={
        "description": "display name of whoever completed the step before (null: the system or a message)"})
    handed_over_at = fields.DateTime(allow_none=True, required=True,
                                     metadata={"description": "when the task was handed over"})


class TaskDetail(Task):
    form = fields.Function(
        lambda t: engine.task_form(object_session(t), t),
        required=True, metadata={"type": "object", "description": "JSON Schema (draft 2020-12) of the completion data"})


class TaskPage(ma.Schema):
    items = fields.List(fields.Nested(Task), required=True)
    total = fields.Integer(required=True, metadata={"description": "exact number of matching items, all pages"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True, metadata={"description": "ceil(total / per_page), at least 1"})


class Case(ma.Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    confidentiality = fields.String(required=True)
    owner_agency = Dotted("owner_agency.code")
    created_by = Dotted("created_by.username")
    created_at = fields.DateTime(required=True)


class InboxPage(TaskPage):
    items = fields.List(fields.Nested(InboxTask), required=True)


class NextWork(ma.Schema):
    following = fields.List(fields.Nested(Task), required=True, metadata={
        "description": "the case's open tasks now: the next steps, their lanes and due times"})
    next_task = fields.Nested(Task, allow_none=True, required=True, metadata={
        "description": "my next open task, of the same case first; null when I have none"})


class CasePage(TaskPage):
    items = fields.List(fields.Nested(Case), required=True)


class Participant(ma.Schema):
    agency = Dotted("agency.code")
    agency_name = Dotted("agency.name")
    joined_at = fields.DateTime(required=True)


class Instance(ma.Schema):
    id = fields.Integer(required=True)
    process = ModelPart("key")
    process_name = ModelPart("name")
    version = ModelPart("version", length=12)
    status = fields.String(required=True, metadata={"description": "running | completed | error | cancelled"})
    started_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True, required=True)


class CaseDetail(Case):
    participants = fields.List(fields.Nested(Participant), required=True)
    instances = fields.List(fields.Nested(Instance), required=True)
    tasks = fields.List(fields.Nested(Task), required=True)


class TimelineEvent(ma.Schema):
    seq = fields.Integer(required=True)
    event_type = fields.String(required=True, metadata={"description": "subject_verbed, e.g. task_claimed"})
    occurred_at = fields.DateTime(required=True)
    actor = Dotted("actor.username", allow_none=True)
    agency = Dotted("actor_agency.code", allow_none=True)
    instance_id = fields.Integer(allow_none=True, required=True)
    task_id = fields.Integer(allow_none=True, required=True)
    summary = fields.Function(lambda e: _summary(e.detail), required=True, metadata={
        "type": "string", "description": "task title, process or message name; never form data"})
    hash = fields.String(required=True)


def _summary(detail: dict | None) -> str:
    for key in ("title", "message", "number", "process"):
        if (detail or {}).get(key):
            return str(detail[key])
    return ""


class ProcessModel(ma.Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.String(required=True, metadata={"description": "SHA-256 of the model's files"})
    deployed_at = fields.DateTime(required=True)
    forms = fields.Function(lambda m: sorted(m.forms or {}), required=True,
                            metadata={"type": "array", "items": {"type": "string"}})


class DeployResult(ma.Schema):
    created = fields.Boolean(required=True, metadata={"description": "false: this content was deployed before"})
    model = fields.Nested(ProcessModel, required=True)
