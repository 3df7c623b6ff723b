"""The JSONPath subset printer columns use: ``.a.b``, ``[0]``, ``[*]``, ``[?(@.type=='Ready')]``."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from aso.common import get_path

_TOKEN = re.compile(
    r"""\.([A-Za-z0-9_-]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*(==|!=)\s*['"]([^'"]*)['"]\)\]|\['([^']+)'\]"""
)


@lru_cache(maxsize=512)
def _parse(path: str) -> tuple[tuple[str, ...], ...]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    text = text.removeprefix("$")
    steps: list[tuple[str, ...]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"unsupported JSONPath {path!r} at {text[pos:]!r}")
        field, index, filter_field, op, filter_value, quoted = match.groups()
        if field is not None or quoted is not None:
            steps.append(("field", field if field is not None else quoted))
        elif index is not None:
            steps.append(("index", index))
        else:
            steps.append(("filter", filter_field, op, filter_value))
        pos = match.end()
    return tuple(steps)


def evaluate(obj: Any, path: str) -> list[Any]:
    """All values the path selects (empty when nothing matches)."""
    current = [obj]
    for step in _parse(path):
        found: list[Any] = []
        for value in current:
            if step[0] == "field":
                if isinstance(value, dict) and step[1] in value:
                    found.append(value[step[1]])
            elif step[0] == "index":
                if isinstance(value, list):
                    if step[1] == "*":
                        found.extend(value)
                    elif int(step[1]) < len(value):
                        found.append(value[int(step[1])])
                elif isinstance(value, dict) and step[1] == "*":
                    found.extend(value.values())
            elif isinstance(value, list):
                _, field, op, expected = step
                for item in value:
                    actual = get_path(item, field)
                    if (str(actual) == expected) == (op == "=="):
                        found.append(item)
        current = found
    return current
