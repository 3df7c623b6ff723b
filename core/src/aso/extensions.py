"""Optional reconcile-time extensions of a kind, in middleware style.

Each extension is a callable taking ``(ctx, next)``: ``ctx`` describes the object being reconciled and
gives access to ARM; ``next`` runs the generic behaviour and returns its result. An extension may act
before or after calling ``next``, change its result, or not call it at all. There is one extension of
each kind per resource kind (no chain of several).

The order within one reconcile: ``pre_reconcile``, then ``arm_body``, then the GET, compare and (when
something differs) PUT of the core, then ``export_values`` once the resource is ready. A delete runs
``delete``. ``classify_error`` sees every ARM error, the core's and those of an extension's own ARM
calls alike.

Extensions raise :class:`aso.RetryableError` or :class:`aso.PermanentError` to stop a reconcile; an
:class:`aso.ArmError` from ``ctx.arm`` may simply propagate. No extension should wait for a
long-running operation: start it, raise :class:`aso.RetryableError` with a ``delay``, and look at it
again in the next call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from aso.kinds import KindVersion, ResourceKind

__all__ = [
    "ArmApi",
    "ArmBody",
    "ArmErrorInfo",
    "Classification",
    "ClassifyError",
    "Delete",
    "ExportValues",
    "Extensions",
    "Next",
    "PreReconcile",
    "ReconcileContext",
]

T = TypeVar("T")


class ArmApi(Protocol):
    """The ARM calls an extension may make, authenticated and rate limited by the core.

    Every call raises :class:`aso.ArmError` (status, ARM code, message) when ARM answers with an
    error; the core classifies it if the extension lets it propagate.
    """

    async def get(self, arm_id: str, api_version: str) -> dict[str, Any] | None:
        """GET a resource; None when ARM answers 404."""
        ...

    async def put(self, arm_id: str, api_version: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT a resource and return ARM's response body (a long operation is started, not awaited)."""
        ...

    async def patch(self, arm_id: str, api_version: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH a resource and return ARM's response body."""
        ...

    async def post(
        self, arm_id: str, action: str, api_version: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST ``{arm_id}/{action}`` (e.g. ``listKeys``) and return the JSON response."""
        ...

    async def delete(self, arm_id: str, api_version: str) -> None:
        """DELETE a resource (started, not awaited); a resource already gone is no error."""
        ...


class ReconcileContext(Protocol):
    """What an extension sees of the object being reconciled."""

    kind: ResourceKind
    #: The version the object was written in; its ``arm_api_version`` is used for requests.
    api_version: KindVersion
    namespace: str
    name: str
    #: The object as stored (hub version), read-only.
    body: Mapping[str, Any]
    #: Full ARM id of the resource.
    arm_id: str
    arm: ArmApi
    log: logging.Logger | logging.LoggerAdapter[logging.Logger]


@dataclass(frozen=True, kw_only=True)
class ArmErrorInfo:
    """An error answered by ARM (or a transport failure, status 0) to classify."""

    status: int
    code: str
    message: str
    retry_after: float | None = None


@dataclass(frozen=True, kw_only=True)
class Classification:
    """Whether an ARM error can heal by itself (retry, Warning) or needs the user (Error)."""

    retry: bool
    #: ``Warning`` or ``Error`` (:data:`aso.Severity`; ``Info`` is the core's, for work under way).
    severity: Literal["Warning", "Error"]
    reason: str
    delay: float | None = None


#: The ``next`` of an extension: runs the generic behaviour and returns its result.
Next = Callable[[], Awaitable[T]]
#: Runs first, before the body is built and before the core's GET or PUT; raise to hold the
#: reconcile (e.g. a prerequisite not yet met).
PreReconcile = Callable[["ReconcileContext", Next[None]], Awaitable[None]]
#: Builds the ARM PUT body; ``next`` returns the generic body built from ``spec``.
ArmBody = Callable[["ReconcileContext", Next[dict[str, Any]]], Awaitable[dict[str, Any]]]
#: Computes exported values (export name -> value); ``next`` evaluates the declared ``Export``s.
ExportValues = Callable[["ReconcileContext", Next[dict[str, str]]], Awaitable[dict[str, str]]]
#: Deletes the resource in ARM; ``next`` is the generic DELETE, which raises RetryableError
#: (``Deleting``) while ARM works on it: let that propagate, the handler is called again.
Delete = Callable[["ReconcileContext", Next[None]], Awaitable[None]]
#: Classifies an ARM error; synchronous, ``next`` is the generic classification.
ClassifyError = Callable[[ArmErrorInfo, Callable[[], Classification]], Classification]


@dataclass(frozen=True, kw_only=True)
class Extensions:
    """The extension points of a kind; each is optional and defaults to the generic behaviour."""

    pre_reconcile: PreReconcile | None = None
    arm_body: ArmBody | None = None
    export_values: ExportValues | None = None
    delete: Delete | None = None
    classify_error: ClassifyError | None = None
