"""Which object manages each ARM id: one Azure resource, one managing object.

An object claims an ARM id by carrying it in ``serviceoperator.azure.com/resource-id``; the reconciler
writes that annotation before its first PUT. :class:`ClaimIndex` holds the claims of every watched
object, fed by the watch events of every kind (a kopf event handler), and hands the reconciler a
lookup. (Not a kopf index: kopf runs no handler before every object is indexed, which made a start
over thousands of objects wait minutes for the first Ready.)

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


class ClaimIndex:
    """The claims of every watched object: lower-cased ARM id -> claimants by uid."""

    def __init__(self) -> None:
        self._by_id: dict[str, dict[str, Claimant]] = {}
        self._id_of: dict[str, str] = {}

    def observe(self, kind: str, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        """Record what one watch event says about an object's claim (none once it is deleted)."""
        uid = str((body.get("metadata") or {}).get("uid") or "")
        if not uid:
            return
        claim = {} if deleted else claim_of(kind, body)
        old = self._id_of.pop(uid, None)
        if old is not None:
            holders = self._by_id.get(old, {})
            holders.pop(uid, None)
            if not holders:
                self._by_id.pop(old, None)
        for arm_id, who in claim.items():
            self._by_id.setdefault(arm_id, {})[uid] = who
            self._id_of[uid] = arm_id

    def lookup(self, arm_id: str) -> list[Claimant]:
        return sorted(self._by_id.get(arm_id.lower(), {}).values())
