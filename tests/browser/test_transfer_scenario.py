"""The transfer of a case from market supervision to the police, each person in their own browser.

The steps are found the way people find them, in their inboxes, so steps a diagram adds later
are taken too (pages.ANSWERS approves, accepts and files; other fields get harmless answers).
"""
from __future__ import annotations

from .pages import complete_task, inbox_tasks, open_case

# Everyone the transfer passes through, in the order their work usually comes up.
PEOPLE = ["samr_handler", "samr_head", "samr_liaison", "police_liaison", "police_handler", "police_head"]
# The steps the diagram has today, in order; others may come between them.
KNOWN_STEPS = ["登记案件事实", "负责人审批移送", "联络员审核移交", "联络员签收移送案件", "审查移送案件",
               "负责人决定是否立案", "联络员接收立案决定", "移交涉案物品和材料"]
MAX_STEPS = 30


def _run_worker(app) -> None:
    # Messages between the two agencies' instances are delivered by the worker, as in production.
    assert app.test_cli_runner().invoke(args=["worker", "--once"]).exit_code == 0


def _in_order(wanted: list[str], done: list[str]) -> bool:
    steps = iter(done)
    return all(step in steps for step in wanted)


def test_transfer_played_by_each_person_in_their_own_browser(app, person):
    pages = {username: person(username) for username in PEOPLE}
    case_id = open_case(pages["samr_handler"], "某精密机械公司技术秘密被侵犯案")
    number = f"LD2026-{case_id:05d}"
    done: list[tuple[str, str]] = []
    refused: set[str] = set()  # optional steps whose form said they no longer apply
    while len(done) < MAX_STEPS:
        waiting = ((u, task) for u in PEOPLE for task in inbox_tasks(pages[u], number) if task[1] not in refused)
        username, (title, path) = next(waiting, (None, (None, None)))
        if username is None:
            break
        if not complete_task(pages[username], path):
            refused.add(path)
            continue
        assert pages[username].locator(".flash.info").filter(has_text=title).count() == 1
        done.append((username, title))
        _run_worker(app)
    titles = [title for _u, title in done]
    assert _in_order(KNOWN_STEPS, titles), " → ".join(titles)
    # Filed: SAMR's handler goes from the notice straight to the handover, never asked whether to
    # object to a decision that was not made.
    assert titles[titles.index("联络员接收立案决定") + 1] == "移交涉案物品和材料", done
    assert "确认不予立案决定" not in titles
    # The four people the issue names each did their part in their own browser.
    assert {"samr_handler", "samr_head", "police_liaison", "police_head"} <= {u for u, _t in done}
    case_page = pages["police_head"]
    case_page.goto(f"/cases/{case_id}")
    completed = case_page.locator("tr[data-event=task_completed]").all_inner_texts()
    assert _in_order(KNOWN_STEPS, [step for row in completed for step in KNOWN_STEPS if step in row])
    assert case_page.get_by_text("聊城市公安局东昌府分局").count() >= 1
