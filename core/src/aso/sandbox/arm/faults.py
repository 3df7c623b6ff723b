"""Fault injection and request accounting.

Tests arm rules through the control API: the next N requests matching a method and a path
regex fail (429 with Retry-After, 5xx, a reset connection) or are slowed down; the next
operation of a type ends ``Failed`` with a given error. Requests are counted by method and
resource type.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

# ARM's codes for the statuses tests inject most.
DEFAULT_CODES = {
    429: (
        "SubscriptionRequestsThrottled",
        "Number of requests for subscription exceeded the limit. Please try again later.",
    ),
    500: ("InternalServerError", "Encountered internal server error. Please try again."),
    502: ("BadGateway", "The gateway received an invalid response. Please try again."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Please try again later."),
    504: ("GatewayTimeout", "The gateway did not receive a response within the specified time period."),
}

_ids = itertools.count(1)


@dataclass(kw_only=True)
class FaultRule:
    """``action`` is ``status`` (answer ``status`` with an ARM error), ``reset`` (drop the
    connection) or ``slow`` (wait ``delay`` seconds, then answer normally)."""

    method: str = "*"
    path: str = ".*"
    count: int = 1
    action: str = "status"
    status: int = 500
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    id: int = field(default_factory=lambda: next(_ids))
    hits: int = 0

    def __post_init__(self) -> None:
        if self.action not in ("status", "reset", "slow"):
            raise ValueError(f"unknown fault action {self.action!r}")
        self._path = re.compile(self.path, re.IGNORECASE)
        methods = {m.strip().upper() for m in self.method.split("|")}
        self._methods = None if "*" in methods else methods
        if self.code is None:
            self.code, default_message = DEFAULT_CODES.get(self.status, ("Error", "Injected fault."))
            self.message = self.message or default_message
        if self.message is None:
            self.message = "Injected fault."
        if self.status == 429 and self.retry_after is None:
            self.retry_after = 1

    def matches(self, method: str, path_qs: str) -> bool:
        return (self._methods is None or method in self._methods) and self._path.search(path_qs) is not None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


@dataclass(kw_only=True)
class FailureRule:
    """The next ``count`` operations (``method`` PUT/PATCH/DELETE/POST or ``*``) on ``type`` end Failed."""

    type: str
    code: str
    message: str
    method: str = "*"
    count: int = 1
    status: int = 400
    id: int = field(default_factory=lambda: next(_ids))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.failures: list[FailureRule] = []
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.total = 0

    def count(self, method: str, full_type: str) -> None:
        self.counts[method][full_type.lower()] += 1
        self.total += 1

    def reset_counts(self) -> None:
        self.counts.clear()
        self.total = 0

    def counts_dict(self) -> dict[str, Any]:
        return {"total": self.total, "counts": {m: dict(v) for m, v in self.counts.items()}}

    def take(self, method: str, path_qs: str) -> FaultRule | None:
        """The first armed rule matching this request, consuming one of its uses."""
        if not self.rules:
            return None
        for rule in self.rules:
            if rule.matches(method, path_qs):
                rule.count -= 1
                rule.hits += 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    def take_failure(self, method: str, full_type: str) -> FailureRule | None:
        if not self.failures:
            return None
        t = full_type.lower()
        for rule in self.failures:
            if rule.type.lower() == t and rule.method in ("*", method):
                rule.count -= 1
                if rule.count <= 0:
                    self.failures.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()
        self.failures.clear()
