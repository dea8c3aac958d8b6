"""The shared case register's page, CSV export and API on cases walked through the engine."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

import engine
from models import User
from tests.engine.test_register import build_world
from web.db import db

from .api_helpers import ApiClient

FORMULA_TITLE = '=HYPERLINK("http://evil.example","案")'


def seed(app, clock) -> dict[str, str]:
    """The engine tests' four cases and one whose title a spreadsheet would run; case numbers by name."""
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        world = build_world(session, users, clock)
        formula = engine.create_case(session, users["samr_handler"], FORMULA_TITLE)
        return {**{name: case.number for name, case in world.items()}, "formula": formula.number}


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_page_lists_rows_and_hides_secret_titles_from_overseers(app, client_for, clock):
    numbers = seed(app, clock)
    handler = client_for("samr_handler").get("/register/")
    assert handler.status_code == 200
    page = handler.get_data(as_text=True)
    assert "共享案件登记" in page and "乙公司源代码泄露案" in page and "甲公司配方被盗案" in page
    assert page.count('data-mechanism="filing"') == 2 and "不予立案" in page
    supervisor = client_for("office_supervisor").get("/register/").get_data(as_text=True)
    assert numbers["refused"] in supervisor and "乙公司源代码泄露案" not in supervisor
    assert "甲公司配方被盗案" in supervisor
    procuratorate = client_for("procuratorate_handler").get("/register/").get_data(as_text=True)
    # Copied on both transfers: it observes the filed case; the untransferred one stays hidden.
    assert numbers["refused"] in procuratorate and numbers["filed"] in procuratorate
    assert numbers["fresh"] not in procuratorate
    # Everyone logged in has the link.
    assert 'href="/register/"' in client_for("police_liaison").get("/").get_data(as_text=True)


def test_page_filters_and_bad_input(app, client_for, clock):
    numbers = seed(app, clock)
    client = client_for("office_supervisor")
    page = client.get("/register/?mechanism=supervision&state=explanation_requested").get_data(as_text=True)
    assert page.count("<tr data-case") == 1 and numbers["refused"] in page and "东检 → 东公" in page
    page = client.get("/register/?from=2026-03-09&to=2026-03-09").get_data(as_text=True)
    assert page.count("<tr data-case") == 2 and numbers["penalty"] in page
    assert client.get("/register/?from=2026-13-01").status_code == 422
    assert client.get("/register/?state=nope").status_code == 422


def test_csv_export_is_inert_and_follows_visibility(app, client_for, clock):
    numbers = seed(app, clock)
    header, *rows = read_csv(client_for("office_supervisor").get("/register/register.csv?mechanism=transfer"))
    assert header[:5] == ["案件编号", "案件", "机制", "参与单位", "状态"]
    by_number = {r[0]: r for r in rows}
    assert set(by_number) == {numbers[k] for k in ("filed", "refused", "penalty", "fresh", "formula")}
    assert by_number[numbers["formula"]][1] == "'" + FORMULA_TITLE
    assert by_number[numbers["refused"]][1] == numbers["refused"], "a secret case by its number only"
    assert by_number[numbers["filed"]][4] == "已立案" and "东市监移" in by_number[numbers["filed"]][8]
    assert by_number[numbers["filed"]][5] == "2026-03-02T10:00:00+08:00"
    _header, *police = read_csv(client_for("police_handler").get("/register/register.csv"))
    assert {r[0] for r in police} == {numbers[k] for k in ("filed", "refused", "penalty")}
    assert {r[1] for r in police if r[0] == numbers["refused"]} == {"乙公司源代码泄露案"}


def test_api_lists_filters_and_documents_the_register(app, clock):
    numbers = seed(app, clock)
    api = ApiClient(app, "office_supervisor")
    body = api.get("/register?mechanism=filing&per_page=10").get_json()
    assert body["total"] == 2 and {r["case"]["number"] for r in body["items"]} == {numbers["filed"], numbers["refused"]}
    refused = next(r for r in body["items"] if r["case"]["number"] == numbers["refused"])
    assert (refused["state"], refused["case"]["title"], refused["parties"]) == ("not_filed", None, ["police", "samr"])
    assert refused["document_number"].startswith("东公不立")
    supervision = api.get("/register?mechanism=supervision").get_json()["items"][0]
    assert (supervision["trigger"], supervision["state"]) == ("samr_request", "explanation_requested")
    assert "examined" in supervision["dates"] and supervision["documents"]["explain_request"].startswith("东检要说")
    dated = api.get("/register?from=2026-03-05&to=2026-03-06").get_json()
    assert {(r["case"]["number"], r["mechanism"]) for r in dated["items"]} == {
        (numbers["refused"], "filing"), (numbers["refused"], "supervision")}
    police = ApiClient(app, "police_handler").get("/register?per_page=100").get_json()
    assert {r["case"]["number"] for r in police["items"]} == {numbers[k] for k in ("filed", "refused", "penalty")}
    bad = api.get("/register?state=nope&to=2026-02-30")
    assert bad.status_code == 422 and "state" in bad.get_data(as_text=True)
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/register" in spec["paths"] and "RegisterRow" in spec["components"]["schemas"]
