"""The API's inbox is read as lines (the columns its answer shows, engine/oversight/queries.py
`inbox` with `lines`) unless subjects are asked for, when it is read as entities: both answers
are the same task for task, whatever the view, filters and order."""
from __future__ import annotations

from .api_helpers import TRANSFER_STEPS, ApiClient


def _without_subjects(page: dict) -> dict:
    return {**page, "items": [{k: v for k, v in item.items() if k != "subject"} for item in page["items"]]}


def _same_both_ways(client: ApiClient, query: str) -> dict:
    lines = client.get(f"/tasks?{query}")
    entities = client.get(f"/tasks?{query}&subjects=true")
    assert lines.status_code == entities.status_code == 200, lines.get_data(as_text=True)
    assert _without_subjects(lines.get_json()) == _without_subjects(entities.get_json())
    return lines.get_json()


def test_the_inbox_lines_answer_as_its_entities(app):
    handler = ApiClient(app, "samr_handler")
    case_id = handler.post("/cases", {"title": "逐行对照案"}).get_json()["id"]
    other = handler.post("/cases", {"title": "另一案"}).get_json()["id"]
    for username, bpmn_id, data in TRANSFER_STEPS[:4]:
        user = ApiClient(app, username)
        task = user.task_of(case_id, bpmn_id)
        assert user.post(f"/tasks/{task['id']}/claim").status_code == 200
        assert user.post(f"/tasks/{task['id']}/complete", {"data": data}).status_code == 200
    police = ApiClient(app, "police_handler")
    review = police.task_of(case_id, "review_case")
    assert police.post(f"/tasks/{review['id']}/claim").status_code == 200

    # Claimed by the user, with a due rule, handed over by another agency.
    mine = _same_both_ways(police, f"case_id={case_id}&view=mine")
    assert [t["assignee"] for t in mine["items"]] == ["police_handler"]
    assert mine["items"][0]["handed_over_by"] and mine["items"][0]["lane"] == "police.handler"
    # Unclaimed work of two cases, in both orders, narrowed by case text and by mechanism.
    for query in ("view=all", "view=claimable", "view=all&sort=-due", "view=all&case=另一",
                  "view=all&mechanism=case_transfer", "view=all&due=none", "view=all&per_page=1&page=2"):
        page = _same_both_ways(handler, query)
        assert page["total"] >= 1, query
    assert {t["case_id"] for t in _same_both_ways(handler, "view=all")["items"]} >= {other}
    # A page past the end counts without rows.
    past = _same_both_ways(handler, "view=all&page=50")
    assert past["items"] == [] and past["total"] >= 1
