"""English mode on the pages a handler works from: the inbox, a task page and what happens next
show no Chinese outside the case's own data (its title, people's names, what was typed)."""
from __future__ import annotations

import re

from .helpers import FACTS, claim_and_complete, create_case, open_task, text

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
DATA = ("英文模式测试案", "王承办（市场监管）", "李承办（市场监管）", "张局长（市场监管）", "赵联络员（市场监管）")


def _chinese_outside_data(html: str) -> list[str]:
    body = re.search(r"<main.*?</main>", html, re.S).group(0)
    body = re.sub(r"<(script|style)\b.*?</\1>", "", body, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", body)
    for value in DATA:
        visible = visible.replace(value, "")
    return CJK.findall(visible)


def test_the_inbox_task_page_and_next_steps_in_english(app, client_for):
    handler = client_for("samr_handler")
    handler.get("/?lang=en")
    case_id = create_case(handler, title="英文模式测试案")
    task = open_task(app, case_id, "register_facts")
    inbox = text(handler.get("/"))
    assert "Market Supervision · Handler" in inbox and "东市监" not in inbox
    assert _chinese_outside_data(inbox) == []
    assert claim_and_complete(handler, task.id, FACTS).status_code == 303
    done = text(handler.get(f"/tasks/{task.id}/done"))
    assert "Market Supervision · Head" in done
    assert _chinese_outside_data(done) == []
    head = client_for("samr_head")
    head.get("/?lang=en")
    decision = open_task(app, case_id, "decide_transfer")
    page = text(head.get(f"/tasks/{decision.id}"))
    leftover = [w for w in _chinese_outside_data(page) if w not in FACTS.values()]
    assert leftover == [], leftover


def test_the_metrics_page_in_english_names_agencies_and_steps_in_english(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler, title="英文模式测试案")
    assert claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS).status_code == 303
    supervisor = client_for("office_supervisor")
    supervisor.get("/?lang=en")
    html = text(supervisor.get("/supervision/metrics"))
    assert "Market Supervision" in html and "东市监" not in html and "登记案件事实" not in html
    assert "Register the case facts" in html or "Register" in html
