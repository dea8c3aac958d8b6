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

from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

# Pruning runs before every save, on trees of a few tasks that mostly hold nothing to drop, so it
# looks at each task once and does more only where something may go: a lookup of a task by its
# UUID costs a hash in Python, a test of a spec's class a call; tasks are tracked by identity.
_COMPLETED, _WAITING = TaskState.COMPLETED, TaskState.WAITING
_NOT_CHAINED = (SubWorkflowTask, LoopTask, InclusiveGateway, Join)
_JOIN_KINDS = (InclusiveGateway, Join)


def prune(workflow: BpmnWorkflow) -> set[str]:
    """Drop the finished tasks of every (sub)process that no later step reads; returns the BPMN
    ids of the completed ones."""
    dropped: set[str] = set()
    subprocesses = workflow.subprocesses
    _Pruner(workflow, subprocesses, dropped).run()
    for process in subprocesses.values():
        _Pruner(process, subprocesses, dropped).run()
    return dropped


def split_steps(process_spec) -> frozenset[str]:
    """The steps the joins of a process spec search their ancestors for (`Join.split_task`). Kept
    on the spec: engine/runtime/spiff.py asks once per restored spec, so each workflow's copy of it
    carries the answer."""
    found = process_spec.__dict__.get("_liandong_split_steps")
    if found is None:
        found = frozenset(s.split_task for s in process_spec.task_specs.values()
                          if isinstance(s, Join) and s.split_task)
        process_spec._liandong_split_steps = found
    return found


_NO_JOINS: frozenset[str] = frozenset()


class _Subtree(NamedTuple):
    finished: bool
    movable: bool  # holds nothing that must stay (see the module docstring)
    joins: frozenset[str]  # the join steps it reaches


class _Pruner:
    def __init__(self, process, subprocesses, dropped: set[str]):
        self.process = process
        self.tasks = process.tasks
        self.subprocesses = subprocesses  # by the id of the task that runs each: they stay
        self.dropped = dropped
        last = process.last_task
        # The task each (sub)process completed last stays: the one this process holds by its id.
        self.last = self.tasks.get(last.id) if last is not None else None
        self.waiting_joins: set[str] = set()

    def _kept(self, task) -> bool:
        return task is self.last or (isinstance(task.task_spec, SubWorkflowTask) and task.id in self.subprocesses)

    def run(self) -> None:
        forks, loops, chained = self._scan()
        changed = False
        if forks:
            changed = self._drop_side_branches()
        for task in loops:
            if task.id in self.tasks:
                changed = self._drop_merged_items(task) or changed
        if changed:
            chained = self._scan()[2]
        for task in chained:
            self._maybe_splice(task)

    def _scan(self) -> tuple[bool, list, list]:
        """Whether a task branches (has a side branch to look at), the multi-instance and loop
        tasks with items, and the completed tasks with one child (links of a chain), in the
        tree's order; notes the joins waiting."""
        forks, loops, chained = False, [], []
        waiting = self.waiting_joins
        for task in self.tasks.values():
            if task._state == _WAITING and isinstance(task.task_spec, Join):
                waiting.add(task.task_spec.name)
            children = task._children
            if not children:
                continue
            if isinstance(task.task_spec, LoopTask):
                loops.append(task)
            elif children[1:]:
                forks = True
            elif task._state == _COMPLETED:
                chained.append(task)
        return forks, loops, chained

    # -- 1. finished side branches --

    def _drop_side_branches(self) -> bool:
        facts = self._subtree_facts()
        tasks, changed = self.tasks, False
        for task in list(tasks.values()):
            if len(task._children) < 2 or isinstance(task.task_spec, LoopTask):
                continue
            dead = [c for c in task._children if self._dead(facts.get(tasks.get(c)))]
            if dead and len(dead) < len(task._children):
                changed = True
                for child_id in dead:
                    task._children.remove(child_id)
                    self._remove_subtree(child_id)
        return changed

    def _dead(self, subtree: _Subtree | None) -> bool:
        return (subtree is not None and subtree.finished and subtree.movable
                and not subtree.joins & self.waiting_joins)

    def _subtree_facts(self) -> dict[object, _Subtree]:
        """What each subtree holds, by task, computed bottom-up without recursion (a tree stored
        before pruning existed may be thousands of levels deep)."""
        tasks = self.tasks
        root = tasks.get(self.process.task_tree.id)
        order, stack = [], [root] if root is not None else []
        children_of = {}
        while stack:
            task = stack.pop()
            order.append(task)
            children = [child for child in map(tasks.get, task._children) if child is not None]
            children_of[task] = children
            stack.extend(children)
        facts: dict[object, _Subtree] = {}
        for task in reversed(order):
            spec = task.task_spec
            finished = task.has_state(TaskState.FINISHED_MASK)
            movable = task is not self.last and not isinstance(spec, (InclusiveGateway, SubWorkflowTask))
            joins = frozenset((spec.name,)) if isinstance(spec, Join) else _NO_JOINS
            for child in children_of[task]:
                fact = facts[child]
                finished = finished and fact.finished
                movable = movable and fact.movable
                joins = joins | fact.joins if fact.joins else joins
            facts[task] = _Subtree(finished, movable, joins)
        return facts

    def _remove_subtree(self, root_id) -> None:
        stack = [root_id]
        while stack:
            task = self.tasks.pop(stack.pop(), None)
            if task is not None:
                stack.extend(task._children)
                self._note(task)

    # -- 2. merged items of multi-instance and loop tasks --

    def _drop_merged_items(self, task) -> bool:
        merged = task.internal_data.get("merged") or []
        done = set(merged[:-1])
        tasks, changed = self.tasks, False
        # A parallel one may have a thousand items open: test the cheap conditions first.
        for child_id in list(task._children):
            child = tasks.get(child_id)
            if (child is not None and child._state == _COMPLETED and not child._children
                    and not self._kept(child) and str(child_id) in done):
                task._children.remove(child_id)
                del tasks[child_id]
                self._note(child)
                changed = True
        return changed

    # -- 3. completed chains --

    def _maybe_splice(self, task) -> None:
        """Splice out a completed task whose only child is completed too, unless it must stay."""
        if task is self.last or task._parent is None:
            return
        tasks = self.tasks
        child = tasks.get(task._children[0])
        if child is None or child._state != _COMPLETED:
            return
        spec = task.task_spec
        if isinstance(spec, _NOT_CHAINED):
            if isinstance(spec, (SubWorkflowTask, LoopTask, InclusiveGateway)):
                return
            if spec.name in self.waiting_joins:  # a join
                return
            related = True
        else:
            related = spec.name in split_steps(self.process.spec) or self._leads_into_join(spec)
        child_spec = child.task_spec
        if isinstance(child_spec, _JOIN_KINDS) and (
                isinstance(child_spec, InclusiveGateway) or child_spec.name in self.waiting_joins):
            return
        if related and not self._repeated_below(task):
            return
        parent = tasks.get(task._parent)
        if parent is None:
            return
        parent._children[parent._children.index(task.id)] = child.id
        child._parent = parent.id
        del tasks[task.id]
        self._note(task)

    def _leads_into_join(self, spec) -> bool:
        specs = self.process.spec.task_specs
        return any(isinstance(specs.get(name), Join) for name in spec._outputs)

    def _repeated_below(self, task, limit: int = 200) -> bool:
        """Whether a completed task of the same step follows in the single-child chain below."""
        tasks, node = self.tasks, task
        for _ in range(limit):
            if len(node._children) != 1:
                return False
            node = tasks.get(node._children[0])
            if node is None or node._state != _COMPLETED:
                return False
            if node.task_spec.name == task.task_spec.name:
                return True
        return False

    def _note(self, task) -> None:
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id and task._state == _COMPLETED:
            self.dropped.add(bpmn_id)
