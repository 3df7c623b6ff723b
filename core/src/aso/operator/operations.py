"""Long-running ARM operations: starting them, the record kept on the object, and polling.

The record is plain JSON in an annotation: the method, ARM id, api-version and the operation URLs
ARM returned. Anyone who can edit the custom resource can edit it, so it is parsed strictly and its
URLs are used only when they point at the configured ARM endpoint; nothing is ever unpickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from aso.errors import PermanentError, RetryableError
from aso.operator.arm import ArmClient, ArmError, ArmResponse
from aso.operator.settings import Settings, same_origin

__all__ = [
    "OPERATION_ANNOTATION",
    "Operation",
    "OperationRejected",
    "OperationRunning",
    "check_in",
    "first_poll",
    "poll_once",
    "start",
    "waiting",
]

OPERATION_ANNOTATION = "aso.dev/operation"
TERMINAL_OK = frozenset({"succeeded"})
TERMINAL_FAILED = frozenset({"failed", "canceled", "cancelled"})
_DEFAULT_POLL = 5.0
VERBS = ("Creating", "Updating", "Deleting")


class OperationRunning(RetryableError):
    """An operation is running in Azure: look again after ``delay`` seconds (ARM's Retry-After)."""

    def __init__(self, message: str, *, method: str, reason: str, delay: float) -> None:
        super().__init__(message, reason=reason, delay=delay, severity="Info")
        self.method = method


class OperationRejected(ValueError):
    """The operation record on the object is malformed or points somewhere it must not."""


@dataclass(frozen=True, kw_only=True)
class Operation:
    method: str
    arm_id: str
    api_version: str
    status_url: str | None = None
    location_url: str | None = None
    #: What the operation does, for the Ready condition: ``Creating``, ``Updating`` or ``Deleting``.
    verb: str | None = None

    def to_annotation(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_annotation(cls, raw: str, settings: Settings) -> Operation:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise OperationRejected(f"annotation {OPERATION_ANNOTATION}: not valid JSON") from exc
        if not isinstance(data, dict) or set(data) - {
            "method",
            "arm_id",
            "api_version",
            "status_url",
            "location_url",
            "verb",
        }:
            raise OperationRejected(f"annotation {OPERATION_ANNOTATION}: unexpected shape")
        method, arm_id, api_version = data.get("method"), data.get("arm_id"), data.get("api_version")
        if method not in ("PUT", "DELETE") or not isinstance(arm_id, str) or not isinstance(api_version, str):
            raise OperationRejected(
                f"annotation {OPERATION_ANNOTATION}: method, arm_id and api_version are required"
            )
        verb = data.get("verb")
        if verb not in (None, *VERBS):
            raise OperationRejected(
                f"annotation {OPERATION_ANNOTATION}: verb must be one of {', '.join(VERBS)}"
            )
        urls = {k: data.get(k) for k in ("status_url", "location_url")}
        for key, url in urls.items():
            if url is None:
                continue
            if not isinstance(url, str) or not same_origin(url, settings):
                raise OperationRejected(
                    f"annotation {OPERATION_ANNOTATION}: {key} {url!r} is not on the ARM endpoint "
                    f"{settings.arm_endpoint}; refusing to poll it"
                )
        return cls(method=method, arm_id=arm_id, api_version=api_version, verb=verb, **urls)


def _provisioning_state(body: Any) -> str | None:
    if isinstance(body, dict):
        props = body.get("properties")
        if isinstance(props, dict) and isinstance(props.get("provisioningState"), str):
            return str(props["provisioningState"])
    return None


async def start(
    client: ArmClient,
    method: str,
    arm_id: str,
    api_version: str,
    body: Any = None,
    *,
    verb: str | None = None,
) -> tuple[ArmResponse, Operation | None]:
    """Send the PUT or DELETE; return the response and the operation to follow (None when done)."""
    response = await client.send(method, client.url(arm_id, api_version), body)
    status_url = response.header("Azure-AsyncOperation")
    location_url = response.header("Location")
    if location_url and location_url.startswith("/"):
        location_url = client.settings.arm_endpoint.rstrip("/") + location_url
    state = (_provisioning_state(response.body) or "").lower()
    pending = (
        status_url is not None
        or (response.status == 202)
        or (
            method == "PUT"
            and response.status in (200, 201)
            and state not in ("", *TERMINAL_OK, *TERMINAL_FAILED)
        )
    )
    if method == "PUT" and state in TERMINAL_FAILED and status_url is None:
        raise ArmError(response.status, "ProvisioningFailed", f"provisioningState is {state}")
    if not pending:
        return response, None
    return response, Operation(
        method=method,
        arm_id=arm_id,
        api_version=api_version,
        status_url=status_url,
        location_url=location_url if response.status == 202 else None,
        verb=verb,
    )


async def poll_once(client: ArmClient, op: Operation) -> tuple[bool, float]:
    """Poll once: (done, seconds to wait before polling again). Raises ArmError when it failed."""
    if op.status_url:
        response = await client.send("GET", op.status_url)
        body: dict[str, Any] = response.body if isinstance(response.body, dict) else {}
        status = str(body.get("status", "")).lower()
        if status in TERMINAL_OK:
            return True, 0.0
        if status in TERMINAL_FAILED:
            raw_error = body.get("error")
            error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
            raise ArmError(
                200,
                str(error.get("code") or "OperationFailed"),
                str(error.get("message") or f"operation {status}"),
            )
        return False, first_poll(response)
    if op.location_url:
        response = await client.send("GET", op.location_url)
        if response.status == 202:
            return False, first_poll(response)
        return True, 0.0
    # ARM's "201 + provisioningState" pattern: the resource itself is read; its Retry-After, when
    # the provider sends one, says when to read it again.
    try:
        read: ArmResponse | None = await client.send("GET", client.url(op.arm_id, op.api_version))
    except ArmError as exc:
        if exc.status != 404:
            raise
        read = None
    if read is None:
        if op.method == "DELETE":
            return True, 0.0
        raise ArmError(404, "ResourceNotFound", f"{op.arm_id} disappeared while being created")
    resource = read.body if isinstance(read.body, dict) else {}
    state = (_provisioning_state(resource) or "succeeded").lower()
    if op.method == "PUT" and state in TERMINAL_OK:
        return True, 0.0
    if state in TERMINAL_FAILED:
        raise ArmError(200, "ProvisioningFailed", f"provisioningState of {op.arm_id} is {state}")
    return False, first_poll(read)


def first_poll(response: ArmResponse) -> float:
    """Seconds until the next poll: ARM's ``Retry-After`` (0 included), else a default."""
    return response.retry_after if response.retry_after is not None else _DEFAULT_POLL


def waiting(operation: Operation, wait: float) -> OperationRunning:
    """The condition while an operation runs: ``Reconciling`` (``Deleting``), severity Info, with
    what it does in the message; the handler returns and is called again after ``wait`` seconds."""
    verb = operation.verb or ("Deleting" if operation.method == "DELETE" else "Reconciling")
    reason = "Deleting" if operation.method == "DELETE" else "Reconciling"
    return OperationRunning(
        f"{verb}: waiting for the {operation.method} of {operation.arm_id} to finish in Azure",
        method=operation.method,
        reason=reason,
        delay=wait,
    )


async def check_in(client: ArmClient, operation: Operation) -> bool:
    """Poll the operation once: True when it has ended well, else :func:`waiting` is raised.

    A failed operation raises its ArmError (status 200 for a failure ARM reported in the operation).
    An operation URL that is not on the ARM endpoint raises PermanentError ``OperationRejected``.
    """
    try:
        done, wait = await poll_once(client, operation)
    except ArmError as exc:
        if exc.status == 0 and exc.code == "OperationUrlRejected":
            raise PermanentError(exc.message, reason="OperationRejected") from exc
        raise
    if not done:
        raise waiting(operation, wait)
    return True
