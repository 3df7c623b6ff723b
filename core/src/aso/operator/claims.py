"""Which object manages each ARM id: one Azure resource, one managing object.

An object claims an ARM id by carrying it in ``serviceoperator.azure.com/resource-id``; the reconciler
writes that annotation before its first PUT. The kopf layer keeps an index of the claims of every
watched object (a kopf index per kind, fed by the watch) and hands the reconciler a lookup.

When several objects claim one id, the oldest (creationTimestamp, then namespace and name) manages
it; any other is refused with ``ResourceAlreadyManaged``, drops its claim, never writes and never
deletes. Objects with the ``skip`` reconcile-policy annotation only read, so they claim nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ClaimLookup", "Claimant", "claim_of", "no_claims"]

RESOURCE_ID_ANNOTATION = "serviceoperator.azure.com/resource-id"
POLICY_ANNOTATION = "serviceoperator.azure.com/reconcile-policy"


@dataclass(frozen=True, order=True)
class Claimant:
    """An object that names an ARM id; ordered oldest first."""

    created: str
    namespace: str
    name: str
    kind: str = field(compare=False)
    uid: str = field(compare=False)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


#: Every object claiming an ARM id (any casing), oldest first.
ClaimLookup = Callable[[str], Sequence[Claimant]]


def no_claims(_: str) -> Sequence[Claimant]:
    return ()


def claimant(kind: str, body: Mapping[str, Any]) -> Claimant:
    meta = body.get("metadata") or {}
    return Claimant(
        created=str(meta.get("creationTimestamp") or ""),
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        kind=kind,
        uid=str(meta.get("uid") or ""),
    )


def claim_of(kind: str, body: Mapping[str, Any]) -> dict[str, Claimant]:
    """The index entry of one object: ``{lower-cased ARM id: claimant}``, empty when it claims none.

    (An empty dict, not None: kopf keeps an object's previous entries when its index function
    returns None.)
    """
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    arm_id = annotations.get(RESOURCE_ID_ANNOTATION)
    if not arm_id or annotations.get(POLICY_ANNOTATION) == "skip":
        return {}
    return {str(arm_id).lower(): claimant(kind, body)}
