"""The head opens 负责人审批移送 in the browser and reads the decision table's answer: the amount
against the standard, the rule that fired and the table's version, and the two officers who
signed the report."""
from __future__ import annotations

from .pages import complete_task, inbox_tasks, open_case


def test_the_head_sees_the_threshold_result_on_the_decision(person):
    handler, head = person("samr_handler"), person("samr_head")
    case_id = open_case(handler, "浏览器立案标准测试案")
    number = f"LD2026-{case_id:05d}"
    [(_title, path)] = inbox_tasks(handler, number)
    assert complete_task(handler, path)  # the facts of pages.ANSWERS: a loss of 500,000 yuan

    [(title, path)] = inbox_tasks(head, number)
    assert title == "负责人审批移送"
    head.goto(path)
    context = head.locator("section.task-context").inner_text()
    assert "权利人损失 500,000元 ≥ 300,000元：达到立案追诉标准" in context
    assert "给权利人造成损失数额三十万元以上" in context and "版本 2021.1" in context
    assert "王承办（市场监管）" in context and "李承办（市场监管）" in context
