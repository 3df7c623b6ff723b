"""Long-running operations, as ARM runs them.

An operation is started by an asynchronous PUT/PATCH/DELETE (or POST action). It is announced
through ``Azure-AsyncOperation`` (a status document: ``InProgress`` -> ``Succeeded``/``Failed``)
and/or ``Location`` (202 until done, then the result) URLs, and completes once it has been
polled ``polls`` times and ``delay`` seconds have passed. Completion updates the resource:
``provisioningState`` becomes ``Succeeded``/``Failed``, or the resource (and everything below
it) disappears for a delete.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from aso.common import utc_now

from .profiles import region_key

STATUS_SEGMENT = "operationStatuses"
RESULT_SEGMENT = "operationResults"


@dataclass(kw_only=True)
class AsyncOperation:
    id: str
    kind: str  # put | patch | delete | action
    resource_id: str
    resource_type: str
    subscription: str
    namespace: str
    location: str
    api_version: str
    polls_needed: int
    ready_at: float
    retry_after: float | None  # None: answers carry no Retry-After
    start_time: str
    status: str = "InProgress"
    polls_seen: int = 0
    end_time: str | None = None
    error: dict[str, Any] | None = None
    # Error to end with (from a failure rule), and the HTTP status a Location poll answers then.
    fail_with: dict[str, Any] | None = None
    fail_status: int = 400
    prior_state: str | None = None
    # For a resource-group delete ARM uses /subscriptions/{s}/operationresults/{id}.
    subscription_level: bool = False
    # No operation URLs were given out: GETs of the resource count as polls.
    poll_on_get: bool = False

    @property
    def done(self) -> bool:
        return self.status != "InProgress"

    def status_path(self) -> str:
        if self.subscription_level:
            return f"/subscriptions/{self.subscription}/operationresults/{self.id}"
        return (
            f"/subscriptions/{self.subscription}/providers/{self.namespace}/locations/"
            f"{region_key(self.location) or 'global'}/{STATUS_SEGMENT}/{self.id}"
        )

    def result_path(self) -> str:
        if self.subscription_level:
            return f"/subscriptions/{self.subscription}/operationresults/{self.id}"
        return (
            f"/subscriptions/{self.subscription}/providers/{self.namespace}/locations/"
            f"{region_key(self.location) or 'global'}/{RESULT_SEGMENT}/{self.id}"
        )

    def status_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.status_path(),
            "name": self.id,
            "status": self.status,
            "startTime": self.start_time,
        }
        if self.end_time:
            doc["endTime"] = self.end_time
        if self.error:
            doc["error"] = self.error
        return doc


def format_retry_after(seconds: float) -> str:
    # Whole seconds: the generated SDK clients deserialize Retry-After as an int.
    return str(max(0, round(seconds)))


def retry_header(op: AsyncOperation) -> dict[str, str]:
    """The ``Retry-After`` of an answer about a running operation (none if its spec sends none)."""
    return {} if op.retry_after is None else {"Retry-After": format_retry_after(op.retry_after)}


class Operations:
    """Running and finished operations by id; ``on_complete`` applies a result to the store."""

    def __init__(self, on_complete: Callable[[AsyncOperation], None]) -> None:
        self._ops: dict[str, AsyncOperation] = {}
        # Ids of running operations, so the timer never walks the finished ones.
        self._pending: set[str] = set()
        self._on_complete = on_complete
        self.dirty = False

    def start(
        self,
        *,
        kind: str,
        resource_id: str,
        resource_type: str,
        subscription: str,
        namespace: str,
        location: str,
        api_version: str,
        polls: int,
        delay: float,
        retry_after: float | None,
        fail_with: dict[str, Any] | None = None,
        fail_status: int = 400,
        prior_state: str | None = None,
        subscription_level: bool = False,
        poll_on_get: bool = False,
    ) -> AsyncOperation:
        op = AsyncOperation(
            id=str(uuid.uuid4()),
            kind=kind,
            resource_id=resource_id,
            resource_type=resource_type,
            subscription=subscription,
            namespace=namespace,
            location=location,
            api_version=api_version,
            polls_needed=max(0, polls),
            ready_at=time.time() + max(0.0, delay),
            retry_after=retry_after,
            start_time=utc_now(3),
            fail_with=fail_with,
            fail_status=fail_status,
            prior_state=prior_state,
            subscription_level=subscription_level,
            poll_on_get=poll_on_get,
        )
        self._ops[op.id] = op
        self._pending.add(op.id)
        self.dirty = True
        if len(self._ops) > 20_000:
            self._forget_finished()
        return op

    def get(self, op_id: str) -> AsyncOperation | None:
        return self._ops.get(op_id.lower())

    def poll(self, op: AsyncOperation) -> AsyncOperation:
        """One status poll: counts towards ``polls`` and completes the operation when due."""
        if not op.done:
            op.polls_seen += 1
            self.check(op)
        return op

    def check(self, op: AsyncOperation) -> None:
        if not op.done and op.polls_seen >= op.polls_needed and time.time() >= op.ready_at:
            self.complete(op)

    def complete(self, op: AsyncOperation) -> None:
        if op.done:
            return
        self._pending.discard(op.id)
        op.end_time = utc_now(3)
        if op.fail_with is not None:
            op.status = "Failed"
            op.error = op.fail_with
        else:
            op.status = "Succeeded"
        self.dirty = True
        self._on_complete(op)

    def due(self) -> list[AsyncOperation]:
        """Operations that need no polls and whose delay has passed (completed by a timer)."""
        now = time.time()
        return [
            o
            for o in self._ops.values()
            if not o.done and o.polls_needed <= o.polls_seen and now >= o.ready_at
        ]

    def _forget_finished(self) -> None:
        # Bounded memory: forget the older half of the finished operations (dicts keep start
        # order); recent ones stay pollable, as a client may poll a finished operation again.
        finished = [k for k, o in self._ops.items() if o.done]
        for k in finished[: len(finished) // 2]:
            del self._ops[k]

    def clear(self) -> None:
        self._ops.clear()
        self._pending.clear()

    def dump(self) -> list[dict[str, Any]]:
        return [asdict(o) for o in self._ops.values()]

    def load(self, items: list[dict[str, Any]]) -> None:
        self._ops = {d["id"]: AsyncOperation(**d) for d in items}
        self._pending = {i for i, o in self._ops.items() if not o.done}
