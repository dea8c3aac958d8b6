"""What a JSON request body may hold, checked before it is parsed.

Python's json module fails with RecursionError on a body nested a few thousand deep and with
ValueError on an integer of more than 4,300 digits; webargs takes neither for a client's error,
so each would be a 500. One pass over the body's tokens (strings skipped whole) finds them
first and answers 422 naming the field. What parses but cannot be stored (NaN, Infinity, 1e400
read as a float, NUL, lone surrogates) is refused after parsing, with the field as the form
names it: by the schemas' Text fields, and for task data by the engine (engine/runtime/forms.py),
which checks the pages' submissions the same way.
"""
from __future__ import annotations

import json
import re

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

import engine

MAX_DEPTH = 16
MAX_BYTES = 1024 * 1024
MAX_DIGITS = 40
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]|-?\d[\d.eE+-]*')
_COLON = re.compile(r"\s*:")
# A number token longer than MAX_DIGITS holds this (digits inside strings match it too).
_LONG_NUMBER = re.compile(rf"\d[\d.eE+-]{{{MAX_DIGITS - 1},}}")


def problems(text: str, max_depth: int = MAX_DEPTH) -> dict[str, list[str]]:
    """What in this JSON text would break its parsing, by field path in the body (dotted; list
    items by index; '' for the body itself): nesting deeper than `max_depth` (the scan stops
    there) and numbers longer than MAX_DIGITS characters."""
    # Almost every body can hold neither: nesting deeper than `max_depth` takes more brackets
    # than that (counted in strings too), and a long number leaves a long run of its characters.
    # Three scans in C tell; only a body that might goes through the tokens.
    if text.count("{") + text.count("[") <= max_depth and _LONG_NUMBER.search(text) is None:
        return {}
    errors: dict[str, list[str]] = {}
    # One entry per open container: [is_object, the current key or index].
    stack: list[list] = []

    def path() -> str:
        return ".".join(str(part) for _, part in stack if part is not None)

    for match in _TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first in "{[":
            if len(stack) >= max_depth:
                errors.setdefault(path(), []).append(f"must not be nested more than {max_depth} levels deep")
                return errors
            stack.append([first == "{", None if first == "{" else 0])
        elif first in "}]":
            if stack:
                stack.pop()
        elif first == ",":
            if stack and not stack[-1][0]:
                stack[-1][1] += 1
        elif first == '"':
            if stack and stack[-1][0] and _COLON.match(text, match.end()):
                if "\\" not in token and token.isprintable():
                    stack[-1][1] = token[1:-1]  # what json.loads gives for it, without the call
                else:
                    try:
                        stack[-1][1] = json.loads(token)
                    except ValueError:
                        stack[-1][1] = token  # webargs answers 400 for the body
        elif len(token) > MAX_DIGITS:
            errors.setdefault(path(), []).append(f"must be a number of at most {MAX_DIGITS} characters")
    return errors


def check_json_body() -> None:
    """before_request of the API: 413 for a JSON body over MAX_BYTES, 422 naming each field whose
    value would break the parsing (see the module's text)."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up, not five
    # Without a Content-Type there is no JSON body (is_json would parse the missing header).
    if not req.environ.get("CONTENT_TYPE") or not req.is_json:
        return
    if (req.content_length or 0) > MAX_BYTES:
        raise RequestEntityTooLarge(f"a JSON body may have at most {MAX_BYTES} bytes")
    data = req.get_data(cache=True)
    if len(data) > MAX_BYTES:  # sent without a length (chunked)
        raise RequestEntityTooLarge(f"a JSON body may have at most {MAX_BYTES} bytes")
    if not data:
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # webargs answers 400: the body is not UTF-8
    found = problems(text)
    if found:
        raise engine.InvalidInput("the request body cannot be read", found)
