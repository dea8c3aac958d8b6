"""The real case's figures that do not depend on the machine's load, and its references.

- In process on PostgreSQL (the Flask test client, as bench/profile.py): SQL statements and
  Python function calls per request kind, per completion of each step and per case; the app's
  CPU and its PostgreSQL backend's CPU per case; the same for the no-op write (the floor).
- The raw SpiffWorkflow cycle of the same diagram at each step: SpiffWorkflow alone, as it stores
  a workflow (spec included, its own serializer and script engine): deserialize the instance as
  it stands before the step, complete the step's task with the variables the engine hands it
  (the form's "x-variable" fields), run the engine steps until only people, timers or messages
  can move it (message delivery between the pools included), serialize. Median ms and calls.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.pool import NullPool

from .common import ROOT, cpu_seconds
from .real_app import NOOP_PATH, build
from .real_path import STEPS, drive_case

WORKFLOWS = ROOT / "workflows"


# --- the raw SpiffWorkflow cycle at each step -------------------------------------------------


def _raw_path():
    """(start, cycle): a new stored instance of the collaboration, and one cycle of a step."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    from engine.runtime.forms import process_variables
    from engine.time import legal_events

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(WORKFLOWS / "case_transfer.bpmn"))
    parser.add_dmn_files([str(path) for path in sorted(WORKFLOWS.glob("*.dmn"))])
    spec, subprocess_specs = parser.get_collaboration("case_transfer")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    forms = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in (WORKFLOWS / "forms").glob("*.json")}

    def settle(workflow) -> None:
        # As the engine does: a message caught while another pool steps is left READY.
        for _ in range(50):
            workflow.refresh_timers()
            workflow.do_engine_steps()
            if not any(not t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
                return
        raise RuntimeError("raw workflow did not settle")

    def start() -> str:
        workflow = BpmnWorkflow(spec, subprocess_specs)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data["case_id"] = 1
        settle(workflow)
        return serializer.serialize_json(workflow)

    def cycle(stored: str, bpmn_id: str, data: dict) -> str:
        workflow = serializer.deserialize_json(stored)
        task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == bpmn_id)
        props = task.task_spec.extensions["properties"]
        form = forms[props["form"]]
        # The legal events the step records (`legal_events`, which the diagram's scripts read), as
        # the engine hands them to the step (engine/time/legal_events.py).
        recorded = legal_events.on_completion(form, data, props, task.data, {}, datetime.now(timezone.utc))
        if recorded:
            task.data[legal_events.LEGAL_EVENTS] = legal_events.with_recorded(task.data, recorded)
        task.data.update(process_variables(form, data))
        task.run()
        settle(workflow)
        return serializer.serialize_json(workflow)

    return start, cycle


class RawCycles:
    """The raw cycle at each step: `start` a stored instance and `cycle` it through the path's
    steps in order, timed by the caller beside the completion it is compared with (so both meet
    the same load); `calls` and `sizes`: its Python calls, and the stored instance's size in bytes
    before each step, from a first walk."""

    def __init__(self) -> None:
        self._start, self._cycle = _raw_path()
        self._data = {bpmn_id: data for _, bpmn_id, data in STEPS}
        self.calls: dict[str, int] = {}
        self.sizes: dict[str, int] = {}
        stored = self._start()
        for _, bpmn_id, data in STEPS:
            self.sizes[bpmn_id] = len(stored)
            self.calls[bpmn_id], stored = _count_calls(lambda s=stored, b=bpmn_id, d=data: self._cycle(s, b, d))
        for _ in range(2):  # warm-up
            stored = self._start()
            for _, bpmn_id, data in STEPS:
                stored = self._cycle(stored, bpmn_id, data)

    def start(self) -> str:
        return self._start()

    def cycle(self, stored: str, bpmn_id: str) -> str:
        return self._cycle(stored, bpmn_id, self._data[bpmn_id])


def _count_calls(thunk) -> tuple[int, object]:
    count = [0]

    def profiled(frame, event, arg) -> None:
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(profiled)
    try:
        result = thunk()
    finally:
        sys.setprofile(None)
    return count[0], result


# --- the app in process ----------------------------------------------------------------------


@dataclass
class Work:
    """What the app did, by request kind (and by step for claims and completions)."""

    statements: dict = field(default_factory=lambda: defaultdict(int))
    calls: dict = field(default_factory=lambda: defaultdict(int))
    requests: dict = field(default_factory=lambda: defaultdict(int))
    app_cpu_ms: float = 0.0
    db_cpu_ms: float = 0.0
    cases: int = 0


def test_client_call(client):
    """`call` for drive_case over the Flask test client (no network: the server's work only)."""

    def call(method: str, path: str, token: str, body=None):
        response = client.open(f"/api/v1{path}", method=method, json=body, headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.get_json()

    return call


def backend_pids(url: str) -> set[int]:
    """The PostgreSQL backends serving the benchmark database now, except the one asking (a
    connection of its own, outside every pool)."""
    sql = create_engine(url, poolclass=NullPool)
    with sql.connect() as conn:
        pids = set(
            conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            )
        )
    sql.dispose()
    return pids


def count_in_process(url: str, user_tokens: dict[str, str], cases: int, noops: int, profile_cases: int) -> dict:
    """Drive `cases` real cases (after one to warm up) and `noops` no-op writes in process,
    counting; then, if pyinstrument is installed, profile `profile_cases` more into
    bench/profiles/real_case.txt. Also checks each counted case's audit chain and that nothing
    was left for the worker (no message rows)."""
    os.environ["DATABASE_URL"] = url
    from web.db import db

    app = build({"TESTING": True})
    client = app.test_client(use_cookies=False)
    call = test_client_call(client)
    sql = db.state(app).engine
    drive_case(call, user_tokens, lambda kind, step, thunk: thunk())  # imports, caches, the pool's connection
    work, noop = Work(), Work()
    current: list = [None, work]

    def counted(*_args) -> None:
        if current[0]:
            current[1].statements[current[0]] += 1

    def measure(kind, step, thunk):
        key = (kind, step) if step else kind
        current[0] = key
        current[1].requests[key] += 1
        try:
            calls, result = _count_calls(thunk)
        finally:
            current[0] = None
        current[1].calls[key] += calls
        return result

    event.listen(sql, "before_cursor_execute", counted)
    case_ids = [drive_case(call, user_tokens, measure) for _ in range(cases)]
    work.cases = cases
    current[1] = noop
    token = user_tokens["samr_handler"]
    for _ in range(noops):
        status, _ = measure("noop", None, lambda: call("POST", NOOP_PATH, token, {}))
        assert status == 200, status
    event.remove(sql, "before_cursor_execute", counted)

    # CPU, unprofiled (the profiler triples it): the app's own, and its backends' from /proc.
    for target, thunk, count in (
        (work, lambda: drive_case(call, user_tokens, lambda k, s, t: t()), cases),
        (noop, lambda: call("POST", NOOP_PATH, token, {}), noops),
    ):
        backends = backend_pids(url)
        app_before, db_before = time.process_time(), cpu_seconds(backends)
        for _ in range(count):
            thunk()
        target.app_cpu_ms = (time.process_time() - app_before) * 1000 / count
        target.db_cpu_ms = (cpu_seconds(backends) - db_before) * 1000 / count
    _check_cases(app, case_ids)
    profiled = _profile(call, user_tokens, profile_cases)
    return {"work": work, "noop": noop, "profile": profiled}


def _check_cases(app, case_ids: list[int]) -> None:
    import engine
    from models import Message
    from web.db import db

    with db.new_session(app) as session:
        for case_id in case_ids:
            broken = engine.verify_audit(session, case_id)
            if broken:
                raise RuntimeError(f"case {case_id}: audit chain does not verify: {broken}")
        left = session.scalar(select(func.count()).select_from(Message))
        if left:
            raise RuntimeError(f"{left} message rows: the path needs the worker after all")


def _profile(call, user_tokens: dict[str, str], cases: int) -> str | None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    from .profile import write

    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(cases):
            drive_case(call, user_tokens, lambda kind, step, thunk: thunk())
    write("real_case", profiler)
    return "bench/profiles/real_case.txt"
