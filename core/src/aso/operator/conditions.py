"""The Ready condition, in ASO v2's shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aso.common import utc_now

__all__ = ["build_ready", "find_ready", "replace_ready"]


def find_ready(status: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The Ready condition in ``status.conditions`` (a copy), or None: the one lookup of it."""
    for condition in (status or {}).get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return dict(condition)
    return None


def build_ready(
    *,
    ready: bool,
    severity: str,
    reason: str,
    message: str,
    generation: int | None,
    previous: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A Ready condition; ``lastTransitionTime`` moves only when status, severity or reason change."""
    status = "True" if ready else "False"
    condition: dict[str, Any] = {
        "type": "Ready",
        "status": status,
        "severity": "" if ready else severity,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": utc_now(),
    }
    if generation is None:
        del condition["observedGeneration"]
    if condition["severity"] == "":
        del condition["severity"]
    if previous and all(previous.get(k) == condition.get(k) for k in ("status", "severity", "reason")):
        condition["lastTransitionTime"] = previous.get("lastTransitionTime", condition["lastTransitionTime"])
    return condition


def replace_ready(
    conditions: Sequence[Mapping[str, Any]] | None, ready: Mapping[str, Any]
) -> list[dict[str, Any]]:
    others = [dict(c) for c in conditions or [] if c.get("type") != "Ready"]
    return [*others, dict(ready)]
