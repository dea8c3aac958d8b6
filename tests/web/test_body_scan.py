"""web/api/bodies.py's quick look (bracket count, long runs of number characters) lets through
only bodies whose full token scan finds nothing: on bodies near both limits, its answer is the
full scan's."""
from __future__ import annotations

import json
import random
import re

import pytest

from web.api import bodies


def _scan_everything(text: str, max_depth: int) -> dict[str, list[str]]:
    # The full token scan alone: a bound the quick look never passes.
    saved = bodies._LONG_NUMBER
    bodies._LONG_NUMBER = re.compile("(?s).*")
    try:
        return bodies.problems(text, max_depth)
    finally:
        bodies._LONG_NUMBER = saved


def _value(rnd: random.Random, depth: int):
    if depth > 18 or rnd.random() < 0.3:
        return rnd.choice([
            rnd.randint(-10**6, 10**6),
            int("9" * rnd.randint(36, 44)) * rnd.choice((1, -1)),
            "7" * rnd.randint(38, 44),
            "[[{{",
            'say "[" or {',
            1.5e300,
        ])
    if rnd.random() < 0.5:
        return [_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {rnd.choice(("a", "b.c", "键")): _value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}


@pytest.mark.parametrize("seed", range(4))
def test_the_quick_look_answers_as_the_full_scan(seed):
    rnd = random.Random(seed)
    flagged = 0
    for _ in range(1500):
        text = json.dumps(_value(rnd, 0), ensure_ascii=rnd.random() < 0.5, indent=rnd.choice((None, 1)))
        for max_depth in (2, 5, 16):
            expected = _scan_everything(text, max_depth)
            assert bodies.problems(text, max_depth) == expected, (text, max_depth)
            flagged += bool(expected)
    assert flagged > 100  # the bodies reach both limits often enough to mean something


def test_a_number_just_at_the_limit_passes_and_one_past_it_does_not():
    at_limit, past = "1" * bodies.MAX_DIGITS, "1" * (bodies.MAX_DIGITS + 1)
    assert bodies.problems(f'{{"n": {at_limit}}}') == {}
    assert bodies.problems(f'{{"n": -{at_limit[1:]}}}') == {}  # the sign counts
    assert bodies.problems(f'{{"n": -{at_limit}}}') != {}
    assert bodies.problems(f'{{"n": {past}}}') == {"n": [f"must be a number of at most {bodies.MAX_DIGITS} characters"]}
