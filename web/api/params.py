"""webargs' Flask parser with a shorter path for the two locations the API's operations read on
every request: the query string and the JSON body.

What webargs does for them, and this parser does the same way: the query string becomes a dict
(a List or Tuple field, or one marked `is_multiple`, gets all its values, any other field the
first), unknown query parameters are excluded; the body is read only when the request says it is
JSON, an empty body loads as {}, a body that is not JSON (or not UTF-8) is a 400 "Invalid JSON
body.", and the schema's own `unknown` applies. The schema's `load` then validates, and a
ValidationError takes webargs' own error path (422 with {location: {field: reasons}}), so every
message and status is webargs'. What it leaves out: the multidict proxy, which looks every field
up through four layers and builds an exception for each parameter not sent (~90 calls for the
inbox's query), and the loader lookups around it (~40 for a body). Other locations (files) and
`validate=` take webargs' path unchanged.
"""
from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

_QUERY = ("query", "querystring")


class Parser(FlaskParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._multiple: dict[int, tuple[ma.Schema, frozenset[str]]] = {}

    def _multiple_keys(self, schema: ma.Schema) -> frozenset[str]:
        # The API's schemas are instances made once, at import: their keys are read once each.
        known = self._multiple.get(id(schema))
        if known is None or known[0] is not schema:
            keys = frozenset(self._makeproxy({}, schema).multiple_keys)
            known = self._multiple[id(schema)] = (schema, keys)
        return known[1]

    def _load(self, req, schema: ma.Schema, location: str) -> dict:
        if location == "json":
            if not is_json_request(req):
                return {}
            data = req.get_data(cache=True)
            if not data:
                return {}  # webargs: an empty body is no data
            try:
                return core.parse_json(data)
            except json.JSONDecodeError as exc:
                return self._handle_invalid_json_error(exc, req)
        multiple = self._multiple_keys(schema)
        return {key: values if key in multiple else values[0] for key, values in req.args.lists()}

    def parse(self, argmap, req=None, *, location=None, unknown=core._UNKNOWN_DEFAULT_PARAM, validate=None,
              error_status_code=None, error_headers=None):
        location = location or self.location
        if (location != "json" and location not in _QUERY) or validate is not None \
                or not isinstance(argmap, ma.Schema) or unknown != core._UNKNOWN_DEFAULT_PARAM \
                or self.unknown != core._UNKNOWN_DEFAULT_PARAM or type(self).pre_load is not FlaskParser.pre_load:
            return super().parse(argmap, req, location=location, unknown=unknown, validate=validate,
                                 error_status_code=error_status_code, error_headers=error_headers)
        # The request itself, not Flask's proxy to it: every attribute read through the proxy
        # costs two calls.
        req = (req if req is not None else self.get_default_request())._get_current_object()
        try:
            data = self._load(req, argmap, location)
            if location == "json":
                return argmap.load(data)
            return argmap.load(data, unknown=ma.EXCLUDE)
        except ma.ValidationError as error:
            self._on_validation_error(error, req, argmap, location, error_status_code=error_status_code,
                                      error_headers=error_headers)
            raise ValueError("_on_validation_error hook did not raise an exception") from error
