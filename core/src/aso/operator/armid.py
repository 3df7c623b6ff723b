"""ARM resource ids: building them for a kind and reading their parts."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["child_id", "resource_type_of", "subscription_of"]

_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


def subscription_of(arm_id: str) -> str | None:
    match = _SUBSCRIPTION.match(arm_id)
    return match.group(1) if match else None


def child_id(parent_id: str, arm_type: str, name: str, *, extension: bool = False) -> str:
    """The id of a resource of ``arm_type`` named ``name`` below ``parent_id``.

    A top-level type (``Microsoft.Storage/storageAccounts``) or an extension resource hangs below the
    parent's ``/providers/<namespace>/<type>``; a child type (``.../blobServices/containers``) adds
    only its last segment to the parent's id.
    """
    namespace, *types = arm_type.split("/")
    parent = parent_id.rstrip("/")
    if len(types) == 1 or extension:
        return f"{parent}/providers/{namespace}/{'/'.join(types)}/{name}"
    return f"{parent}/{types[-1]}/{name}"


def resource_type_of(path: str) -> str:
    """ARM resource type of a request URL or path, for metrics (``operations`` for operation polls)."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    lowered = [s.lower() for s in segments]
    if any(
        s in ("operationresults", "operationstatuses", "asyncoperations", "operationsstatus") for s in lowered
    ):
        return "operations"
    if "providers" in lowered:
        i = len(lowered) - 1 - lowered[::-1].index("providers")
        rest = segments[i + 1 :]
        if not rest:
            return "unknown"
        types = rest[1::2]
        return "/".join([rest[0], *types]) if types else rest[0]
    if len(lowered) >= 3 and lowered[2] == "resourcegroups":
        return "Microsoft.Resources/resourceGroups"
    if lowered[:1] == ["subscriptions"]:
        return "Microsoft.Resources/subscriptions"
    return "unknown"
