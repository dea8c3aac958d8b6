"""Keeping finished history out of the stored instance state.

SpiffWorkflow keeps every task it ever created in the tree: each turn of a loop adds its tasks
below the last turn's, and a multi-instance task keeps one child per item. Every step loads, walks
and re-serializes that whole tree, so a step late in a long case costs many times an early one, and
a loop of a few hundred turns reaches the tree depth at which SpiffWorkflow stalls (DESIGN.md).

The history itself is recorded elsewhere: each human task's row keeps its result, the audit chain
keeps every step. The tree only has to keep what a later step reads. Before an instance is saved,
`prune` drops three kinds of finished tasks, in this order:

1. a finished side branch: a subtree of finished tasks beside a branch that goes on (the other
   branches of a parallel split whose join has fired, a boundary event that fired or was
   cancelled, the events an event-based gateway did not take). Kept while a join it leads to is
   still waiting for other branches: the join reads the data of the branches that arrived;
2. a completed item of a multi-instance or loop task, except the last one merged (a completion
   condition reads it): its result is already merged into the parent's data;
3. a completed task in a chain whose only child is completed too: it is spliced out and its child
   hangs from its parent. The parent of every unfinished task stays (SpiffWorkflow copies data
   from it and resets to it). A join, or a task that leads into one, goes only when a later
   completed task of the same step follows it in the chain: a parallel gateway finds its inputs
   by walking up from its tasks to the nearest task of each input step, and the nearest one stays
   (this keeps a loop's first entry into a join, which every later turn walks up to); likewise
   the splits a join searches its ancestors for (boundary events, event-based starts).

Never dropped: subprocesses and pools, the task each (sub)process completed last (its data is what
a subprocess returns), and anything around an inclusive gateway, whose check walks the tree in ways a shorter
history would change. A dropped task's data is not lost for the tasks below it: each task carries
its own data, and the serializer stores it as a delta against the parent the task has when saved.
The BPMN ids of the completed tasks dropped are returned, so the diagram can still show them done.
"""
from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState


def prune(workflow: BpmnWorkflow) -> set[str]:
    """Drop the finished tasks of every (sub)process that no later step reads; returns the BPMN
    ids of the completed ones."""
    subprocess_ids = set(workflow.subprocesses)
    dropped: set[str] = set()
    for process in (workflow, *workflow.subprocesses.values()):
        _Pruner(process, subprocess_ids, dropped).run()
    return dropped


_NO_JOINS: frozenset[str] = frozenset()


class _Subtree(NamedTuple):
    finished: bool
    movable: bool  # holds nothing that must stay (see the module docstring)
    joins: frozenset[str]  # the join steps it reaches


class _Pruner:
    def __init__(self, process, subprocess_ids: set[UUID], dropped: set[str]):
        self.process = process
        self.dropped = dropped
        self.keep = set(subprocess_ids)
        if process.last_task is not None:
            self.keep.add(process.last_task.id)
        specs = process.spec.task_specs.values()
        self.split_specs = {s.split_task for s in specs if isinstance(s, Join) and s.split_task}
        joins = [s for s in specs if isinstance(s, Join)]
        self.join_related = {s.name for s in joins} | {i.name for s in joins for i in s.inputs}
        self.waiting_joins = {
            t.task_spec.name for t in process.tasks.values()
            if isinstance(t.task_spec, Join) and t.state == TaskState.WAITING
        }

    def run(self) -> None:
        self._drop_side_branches()
        for task in list(self.process.tasks.values()):
            if task.id in self.process.tasks and isinstance(task.task_spec, LoopTask):
                self._drop_merged_items(task)
        for task in list(self.process.tasks.values()):
            if task.id in self.process.tasks and self._spliceable(task):
                self._splice(task)

    # -- 1. finished side branches --

    def _drop_side_branches(self) -> None:
        facts = self._subtree_facts()
        for task in list(self.process.tasks.values()):
            if len(task._children) < 2 or isinstance(task.task_spec, LoopTask):
                continue
            dead = [c for c in task._children if self._dead(facts.get(c))]
            if dead and len(dead) < len(task._children):
                for child_id in dead:
                    task._children.remove(child_id)
                    self._remove_subtree(child_id)

    def _dead(self, subtree: _Subtree | None) -> bool:
        return (subtree is not None and subtree.finished and subtree.movable
                and not subtree.joins & self.waiting_joins)

    def _subtree_facts(self) -> dict[UUID, _Subtree]:
        """What each subtree holds, computed bottom-up without recursion (a tree stored before
        pruning existed may be thousands of levels deep)."""
        tasks = self.process.tasks
        order, stack = [], [self.process.task_tree.id]
        while stack:
            task_id = stack.pop()
            order.append(task_id)
            stack.extend(c for c in tasks[task_id]._children if c in tasks)
        facts: dict[UUID, _Subtree] = {}
        for task_id in reversed(order):
            task = tasks[task_id]
            spec = task.task_spec
            finished = task.has_state(TaskState.FINISHED_MASK)
            movable = task_id not in self.keep and not isinstance(spec, (InclusiveGateway, SubWorkflowTask))
            joins = frozenset((spec.name,)) if isinstance(spec, Join) else _NO_JOINS
            for child_id in task._children:
                child = facts.get(child_id)
                if child is not None:
                    finished = finished and child.finished
                    movable = movable and child.movable
                    joins = joins | child.joins if child.joins else joins
            facts[task_id] = _Subtree(finished, movable, joins)
        return facts

    def _remove_subtree(self, root_id: UUID) -> None:
        stack = [root_id]
        while stack:
            task = self.process.tasks.pop(stack.pop(), None)
            if task is not None:
                stack.extend(task._children)
                self._note(task)

    # -- 2. merged items of multi-instance and loop tasks --

    def _drop_merged_items(self, task) -> None:
        merged = task.internal_data.get("merged") or []
        done = set(merged[:-1])
        tasks = self.process.tasks
        # A parallel one may have a thousand items open: test the cheap conditions first.
        for child_id in list(task._children):
            child = tasks.get(child_id)
            if (child is not None and child.state == TaskState.COMPLETED and not child._children
                    and child_id not in self.keep and str(child_id) in done):
                task._children.remove(child_id)
                del tasks[child_id]
                self._note(child)

    # -- 3. completed chains --

    def _spliceable(self, task) -> bool:
        if (task.state != TaskState.COMPLETED or task.parent is None or len(task._children) != 1
                or task.id in self.keep):
            return False
        child = self.process.tasks.get(task._children[0])
        if child is None or child.state != TaskState.COMPLETED:
            return False
        spec = task.task_spec
        if isinstance(spec, (SubWorkflowTask, LoopTask)):
            return False
        if not (self._join_allows(spec) and self._join_allows(child.task_spec)):
            return False
        if spec.name in self.join_related or spec.name in self.split_specs:
            return self._repeated_below(task)
        return True

    def _repeated_below(self, task, limit: int = 200) -> bool:
        """Whether a completed task of the same step follows in the single-child chain below."""
        tasks, node = self.process.tasks, task
        for _ in range(limit):
            if len(node._children) != 1:
                return False
            node = tasks.get(node._children[0])
            if node is None or node.state != TaskState.COMPLETED:
                return False
            if node.task_spec.name == task.task_spec.name:
                return True
        return False

    def _join_allows(self, spec) -> bool:
        if isinstance(spec, InclusiveGateway):
            return False
        return not isinstance(spec, Join) or spec.name not in self.waiting_joins

    def _splice(self, task) -> None:
        parent, child_id = task.parent, task._children[0]
        parent._children[parent._children.index(task.id)] = child_id
        self.process.tasks[child_id]._parent = parent.id
        del self.process.tasks[task.id]
        self._note(task)

    def _note(self, task) -> None:
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id and task.state == TaskState.COMPLETED:
            self.dropped.add(bpmn_id)
