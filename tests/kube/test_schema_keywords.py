"""Every keyword of the structural-schema subset, validated by jsonschema, in the API server's words.

The HTTP tests (``test_validation.py``) pin the common field errors through the server; these pin
the rest of the subset at the function the server calls.
"""

from __future__ import annotations

from typing import Any

import pytest

from aso.sandbox.kube.schema import validate

Json = dict[str, Any]


def _spec(**properties: Json) -> Json:
    return {
        "type": "object",
        "properties": {
            "metadata": {"type": "object"},
            "spec": {"type": "object", "properties": properties},
        },
    }


def _lines(schema: Json, spec: Json) -> list[str]:
    return [cause.line() for cause in validate({"metadata": {"name": "x"}, "spec": spec}, schema)]


@pytest.mark.parametrize(
    ("prop", "value", "line"),
    [
        (
            {"type": "integer", "minimum": 1, "exclusiveMinimum": True},
            1,
            "Invalid value: 1: spec.v in body should be greater than 1",
        ),
        (
            {"type": "integer", "maximum": 5, "exclusiveMaximum": True},
            5,
            "Invalid value: 5: spec.v in body should be less than 5",
        ),
        (
            {"type": "integer", "minimum": 2},
            1,
            "Invalid value: 1: spec.v in body should be greater than or equal to 2",
        ),
        (
            {"type": "integer", "multipleOf": 3},
            4,
            "Invalid value: 4: spec.v in body should be a multiple of 3",
        ),
        (
            {"type": "integer", "format": "int32"},
            2**31,
            f"Invalid value: {2**31}: spec.v in body must be of type int32",
        ),
        (
            {"type": "string", "minLength": 2},
            "a",
            'Invalid value: "a": spec.v in body should be at least 2 chars long',
        ),
        (
            {"type": "string", "format": "date-time"},
            "soon",
            'Invalid value: "soon": spec.v in body must be of type date-time: "soon"',
        ),
        (
            {"type": "string", "format": "uuid"},
            "nope",
            'Invalid value: "nope": spec.v in body must be of type uuid: "nope"',
        ),
        (
            {"type": "array", "items": {"type": "string"}, "maxItems": 1},
            ["a", "b"],
            "Too many: 2: must have at most 1 items",
        ),
        (
            {"type": "array", "items": {"type": "string"}, "minItems": 2},
            ["a"],
            "Invalid value: 1: spec.v in body should have at least 2 items",
        ),
        (
            {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            ["a", "b", "a"],
            'Duplicate value: "a"',
        ),
        (
            {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 1},
            {"a": "1", "b": "2"},
            "Too many: 2: must have at most 1 items",
        ),
        (
            {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 2},
            {"a": "1"},
            "Invalid value: 1: spec.v in body should have at least 2 properties",
        ),
        ({"type": "boolean"}, None, 'Invalid value: "null": spec.v in body must be of type boolean: "null"'),
        (
            {"anyOf": [{"type": "integer"}, {"type": "boolean"}]},
            "s",
            'Invalid value: "s": spec.v in body must match at least one schema in anyOf',
        ),
        (
            {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
            1,
            "Invalid value: 1: spec.v in body must match exactly one schema in oneOf",
        ),
        (
            {"not": {"type": "string"}},
            "s",
            'Invalid value: "s": spec.v in body must not validate the schema (not)',
        ),
    ],
)
def test_each_keyword_has_its_kubernetes_message(prop: Json, value: Any, line: str) -> None:
    assert _lines(_spec(v=prop), {"v": value}) == [f"spec.v: {line}"]


def test_map_keys_and_list_items_are_written_as_kubernetes_writes_them() -> None:
    schema = _spec(
        tags={"type": "object", "additionalProperties": {"type": "string", "maxLength": 2}},
        items={"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    )
    assert _lines(schema, {"tags": {"team": "abc"}, "items": [{"n": 1}, {"n": "x"}]}) == [
        "spec.tags[team]: Too long: may not be longer than 2",
        'spec.items[1].n: Invalid value: "string": spec.items[1].n in body must be of type integer: "string"',
    ]


def test_null_is_required_value_where_required_and_allowed_where_nullable() -> None:
    schema = _spec(
        s={
            "type": "object",
            "required": ["a", "b"],
            "properties": {
                "a": {"type": "string", "enum": ["x"]},
                "b": {"x-kubernetes-preserve-unknown-fields": True},
                "c": {"type": "string", "nullable": True, "enum": ["x"]},
            },
        }
    )
    assert _lines(schema, {"s": {"a": None, "b": None, "c": None}}) == [
        "spec.s.a: Required value",
        "spec.s.b: Required value",
    ]
    assert _lines(schema, {"s": {"b": {}}}) == ["spec.s.a: Required value"]


def test_int_or_string_and_integral_numbers() -> None:
    schema = _spec(port={"x-kubernetes-int-or-string": True}, n={"type": "integer"})
    assert _lines(schema, {"port": 80, "n": 2.0}) == []
    assert _lines(schema, {"port": "http"}) == []
    assert _lines(schema, {"port": True}) == [
        'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"'
    ]


def test_the_root_fields_are_left_to_the_metadata_checks() -> None:
    schema = {"type": "object", "properties": {"metadata": {"type": "string"}, "kind": {"type": "integer"}}}
    assert validate({"kind": "Widget", "metadata": {"name": "x"}}, schema) == []
