"""Log formatting: every line about an object names it (kind, namespace, name), as text or JSON."""

from __future__ import annotations

import json
import logging
from typing import Any

__all__ = ["configure_logging"]


def _object(record: logging.LogRecord) -> dict[str, Any] | None:
    ref = getattr(record, "k8s_ref", None)  # set by kopf's per-object logger
    if isinstance(ref, dict) and ref.get("name"):
        return {k: ref.get(k) for k in ("kind", "namespace", "name")}
    return None


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        obj = _object(record)
        if obj is None:
            return line
        head, sep, tail = line.partition(": ")
        return f"{head}: [{obj['kind']} {obj['namespace']}/{obj['name']}] {tail}" if sep else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        obj = _object(record)
        if obj is not None:
            doc["object"] = obj
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure_logging(level: str, fmt: str) -> None:
    """Root logging to stderr at ``level`` (debug/info/warning/error) as ``text`` or ``json``."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The SDK's HTTP logging repeats every request with its headers at INFO: keep it for debug.
    if level.lower() != "debug":
        logging.getLogger("azure").setLevel(logging.WARNING)
