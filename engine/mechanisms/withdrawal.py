"""Mechanisms their starter may withdraw at the first step, with a reason, instead of being left
with a task nothing can complete.

`evidence_package_or_withdrawal` (证据互认's first step): a case with no evidence of the
agency's own, or a recognition no longer needed, ends with the handler's reason (`proceed` false,
`withdrawal_reason`), recorded as the task's result and its `task_completed` event; otherwise the
package is submitted as `evidence_package` does (engine/mechanisms/recognition.py).
"""
from __future__ import annotations

from engine.mechanisms import recognition
from engine.mechanisms.completion import Completion, Hook


def _submit_or_withdraw(c: Completion) -> None:
    if c.data.get("proceed") is False:
        return
    submit = recognition.HOOKS["evidence_package"].check
    assert submit is not None
    submit(c)


HOOKS = {"evidence_package_or_withdrawal": Hook(check=_submit_or_withdraw)}
