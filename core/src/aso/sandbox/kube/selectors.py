"""Label and field selectors as the API server parses them (``a=b,c!=d,e in (x,y),!f``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import errors

Json = dict[str, Any]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        # "!=" and "notin" also match objects without the label, as the API server does.
        return not present or value not in self.values


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    terms: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        terms.append(current)
    return [t for t in terms if t.strip()]


def parse_labels(text: str | None) -> list[Requirement]:
    if not text:
        return []
    requirements: list[Requirement] = []
    for term in _split_terms(text):
        eq = _EQ_RE.match(term)
        if eq:
            op = "=" if eq.group(2) in ("=", "==") else "!="
            requirements.append(Requirement(eq.group(1), op, (eq.group(3),)))
            continue
        match = _SET_RE.match(term)
        if not match:
            raise errors.bad_request(
                f"unable to parse requirement: found '{term.strip()}', expected: in, notin, =, ==, !=, gt, lt"
            )
        negate, key, op, values = match.groups()
        if op:
            if negate:
                raise errors.bad_request(f"unable to parse requirement: {term.strip()}")
            requirements.append(
                Requirement(key, op, tuple(v.strip() for v in values.split(",") if v.strip()))
            )
        else:
            requirements.append(Requirement(key, "!" if negate else "exists"))
    return requirements


def match_labels(requirements: list[Requirement], obj: Json) -> bool:
    if not requirements:
        return True
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in requirements)


@dataclass(frozen=True)
class FieldRequirement:
    path: tuple[str, ...]
    negate: bool
    value: str


def parse_fields(text: str | None, allowed: tuple[str, ...], kind: str) -> list[FieldRequirement]:
    """Parse a field selector; only metadata.name/namespace and the kind's own fields are allowed."""
    if not text:
        return []
    requirements: list[FieldRequirement] = []
    for term in _split_terms(text):
        match = _EQ_RE.match(term)
        if not match:
            raise errors.bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, value = match.groups()
        if field not in ("metadata.name", "metadata.namespace", *allowed):
            raise errors.bad_request(
                f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"'
                if not allowed
                else f"field label not supported: {field}"
            )
        requirements.append(FieldRequirement(tuple(field.split(".")), op == "!=", value))
    return requirements


def _field_value(obj: Json, path: tuple[str, ...]) -> str:
    node: Any = obj
    for part in path:
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, dict):
        # "source" on events selects by source.component.
        node = node.get("component", "")
    return str(node)


def match_fields(requirements: list[FieldRequirement], obj: Json) -> bool:
    return all((_field_value(obj, r.path) == r.value) != r.negate for r in requirements)
