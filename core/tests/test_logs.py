"""Log lines about an object name it, in text and in JSON."""

from __future__ import annotations

import json
import logging

from aso.logs import JsonFormatter, TextFormatter


def _record(with_ref: bool) -> logging.LogRecord:
    record = logging.LogRecord("kopf.objects", logging.ERROR, __file__, 1, "Handler %r failed", ("x",), None)
    if with_ref:
        record.k8s_ref = {"kind": "ResourceGroup", "namespace": "default", "name": "rg1", "uid": "u"}
    return record


def test_text_lines_name_the_object() -> None:
    line = TextFormatter().format(_record(True))
    assert "ERROR kopf.objects: [ResourceGroup default/rg1] Handler 'x' failed" in line
    assert "[" not in TextFormatter().format(_record(False)).split(": ", 1)[1]


def test_json_lines_carry_the_object() -> None:
    doc = json.loads(JsonFormatter().format(_record(True)))
    assert doc["object"] == {"kind": "ResourceGroup", "namespace": "default", "name": "rg1"}
    assert doc["message"] == "Handler 'x' failed"
    assert doc["level"] == "error"
    assert "object" not in json.loads(JsonFormatter().format(_record(False)))
