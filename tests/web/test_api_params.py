"""web/api/params.py gives what webargs' own Flask parser gives, for the query strings and JSON
bodies the API's operations read: the same arguments, or the same status and messages."""
from __future__ import annotations

import marshmallow as ma
import pytest
from flask import Flask
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from web.api import cases, schemas
from web.api.params import Parser


class Many(ma.Schema):
    tags = ma.fields.List(ma.fields.String())
    pair = ma.fields.Tuple((ma.fields.Integer(), ma.fields.Integer()))
    one = ma.fields.Integer()


QUERIES = [
    "", "view=claimable", "view=nope", "page=2&per_page=5", "page=0", "per_page=abc", "page=1&page=2",
    "case_id=3&subjects=true&sort=due", "subjects=maybe", "unknown=1&view=mine", "due=overdue&mechanism=x",
    "tags=a&tags=b&one=1&one=2", "pair=1&pair=2", "pair=1", "tags=", "one=%ZZ",
]
BODIES = [
    (b'{"title": "t"}', "application/json"), (b'{"title": ""}', "application/json"),
    (b'{"title": "t", "extra": 1}', "application/json"), (b"{}", "application/json"), (b"", "application/json"),
    (b"  ", "application/json"), (b"{bad", "application/json"), (b"[]", "application/json"),
    (b"null", "application/json"), (b'"text"', "application/json"), (b"\xff\xfe", "application/json"),
    (b'{"title": "t"}', "text/plain"), (b'{"title": "t"}', "application/problem+json"),
    (b'{"title": "t", "mechanisms": ["a", "B"]}', "application/json; charset=utf-8"),
    (b'{"data": {"note": "ok"}}', "application/json"), (b'{"data": []}', "application/json"),
]


def _outcome(parser, app, schema, location, **request):
    with app.test_request_context(**request):
        try:
            return "ok", parser.parse(schema, location=location)
        except HTTPException as exc:
            return exc.code, exc.data["messages"]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("schema", [schemas.InboxArgs(), schemas.PageArgs(), Many()], ids=type)
def test_query_strings_parse_as_webargs_parses_them(schema, query):
    app = Flask(__name__)
    expected = _outcome(FlaskParser(), app, schema, "query", query_string=query)
    assert _outcome(Parser(), app, schema, "query", query_string=query) == expected


@pytest.mark.parametrize(("body", "content_type"), BODIES)
@pytest.mark.parametrize("schema", [cases.CaseCreate(), schemas.TaskCompletion()], ids=type)
def test_json_bodies_parse_as_webargs_parses_them(schema, body, content_type):
    app = Flask(__name__)
    request = {"method": "POST", "data": body, "content_type": content_type}
    expected = _outcome(FlaskParser(), app, schema, "json", **request)
    assert _outcome(Parser(), app, schema, "json", **request) == expected


def test_the_api_operations_use_it():
    from flask_smorest import Blueprint

    assert isinstance(Blueprint.ARGUMENTS_PARSER, Parser)
