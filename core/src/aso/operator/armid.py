"""ARM resource ids: building them for a kind and reading their parts."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from aso.errors import PermanentError, RetryableError
from aso.kinds import OwnerKind, ResourceKind, Scope
from aso.names import GENERAL_NAME_RULE

__all__ = [
    "RESOURCE_GROUP_TYPE",
    "build_id",
    "check_name",
    "check_parent",
    "check_recorded_id",
    "child_id",
    "id_problem",
    "parent_type",
    "resource_type_of",
    "subscription_of",
    "url_path",
]

#: The one ARM type addressed without a ``/providers/`` segment: ``/subscriptions/{s}/resourceGroups/{n}``.
RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"

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
    if arm_type.lower() == RESOURCE_GROUP_TYPE.lower() and parent.count("/") == 2:
        return f"{parent}/resourceGroups/{name}"  # ARM's id grammar: groups hang below the subscription
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


def _resource_parts(arm_id: str) -> tuple[str, list[tuple[str, str]]] | str:
    """(ARM type, [(type segment, name), ...] of the last provider section) or the reason it is no id."""
    if not arm_id.startswith("/"):
        return "must start with /subscriptions/"
    segments = arm_id[1:].split("/")
    if any(s == "" for s in segments):
        return "has an empty segment"
    for segment in segments:
        problem = GENERAL_NAME_RULE.problem(segment)
        if problem is not None:
            return f"segment {segment!r}: {problem}"
    if len(segments) < 2 or segments[0].lower() != "subscriptions":
        return "must start with /subscriptions/{subscriptionId}"
    rest = segments[2:]
    if not rest:
        return "Microsoft.Resources/subscriptions", []
    if rest[0].lower() == "resourcegroups":
        if len(rest) < 2:
            return "has no resource group name after resourceGroups"
        if len(rest) == 2:
            return "Microsoft.Resources/resourceGroups", [("resourceGroups", rest[1])]
        rest = rest[2:]
    arm_type, pairs = "", []
    while rest:
        if rest[0].lower() != "providers" or len(rest) < 4:
            return "must continue with /providers/{namespace}/{type}/{name}"
        namespace, body = rest[1], rest[2:]
        end = next((i for i in range(0, len(body), 2) if body[i].lower() == "providers"), len(body))
        section, rest = body[:end], body[end:]
        if len(section) % 2:
            return f"type {section[-1]!r} has no name"
        pairs = [(section[i], section[i + 1]) for i in range(0, len(section), 2)]
        arm_type = "/".join([namespace, *(p[0] for p in pairs)])
    return arm_type, pairs


def id_problem(arm_id: str, arm_type: str | None = None) -> str | None:
    """Why ``arm_id`` is not a well-formed ARM id (of ``arm_type``, when given); None when it is.

    Well-formed: ``/subscriptions/{id}``, optionally ``/resourceGroups/{name}``, then provider
    sections ``/providers/{namespace}/{type}/{name}[/{childType}/{name}...]``; an extension resource
    adds a further provider section. Every segment is checked against ARM's general name rule, so an
    id can never step outside the resource it names.
    """
    parts = _resource_parts(arm_id)
    if isinstance(parts, str):
        return f"{arm_id!r} is not an ARM resource id: it {parts}"
    found, _ = parts
    if arm_type is not None and found.lower() != arm_type.lower():
        return f"{arm_id!r} is a {found}, not a {arm_type}"
    return None


def parent_type(arm_type: str) -> str:
    """The type of the parent of a child type (``.../blobServices/containers`` -> ``.../blobServices``)."""
    return arm_type.rsplit("/", 1)[0]


def url_path(arm_id: str) -> str:
    """The id as a URL path, every segment percent-encoded (what the Azure SDK does with names)."""
    return "/".join(quote(segment, safe="") for segment in arm_id.split("/"))


# -- the ARM-id rule of the reconciler: nothing is requested for an id that fails these -------------


def _shown(value: str, limit: int = 100) -> str:
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} characters)"


def check_name(kind: ResourceKind, name: str, field: str) -> None:
    """Refuse a name that breaks the kind's ARM naming rule (or ARM's general one)."""
    if kind.azure_name is not None:
        return  # a singleton: the kind fixes the name
    rule = kind.name_rule or GENERAL_NAME_RULE
    problem = rule.problem(name)
    if problem is not None:
        raise PermanentError(
            f"{field}: {_shown(name)} is not a valid {kind.arm_type} name: {problem}; "
            f"allowed: {rule.explain()}",
            reason="InvalidResourceName",
        )


def _expected_parent_type(kind: ResourceKind) -> str | None:
    """The ARM type the parent id must have; None when any resource may be the parent (extensions)."""
    if isinstance(kind.owner, OwnerKind):
        return parent_type(kind.arm_type)
    if kind.owner is Scope.RESOURCE_GROUP:
        return RESOURCE_GROUP_TYPE
    if kind.owner is Scope.SUBSCRIPTION:
        return "Microsoft.Resources/subscriptions"
    return None


def check_parent(kind: ResourceKind, parent_id: str, where: str) -> str:
    """``parent_id`` when it is an id of the type the kind's resources hang below."""
    problem = id_problem(parent_id, _expected_parent_type(kind))
    if problem is not None:
        raise PermanentError(f"{where}: {problem}", reason="InvalidOwner")
    return parent_id


def build_id(kind: ResourceKind, parent_id: str, name: str) -> str:
    """The ARM id of the resource ``name`` of ``kind`` below ``parent_id``: exactly one resource of
    the kind's type, at its depth."""
    arm_id = child_id(parent_id, kind.arm_type, name, extension=kind.owner is Scope.EXTENSION)
    problem = id_problem(arm_id, kind.arm_type)
    if problem is not None:
        raise PermanentError(
            f"spec.owner/spec.azureName: the ARM id built from them is refused: {problem}",
            reason="InvalidResourceId",
        )
    return arm_id


def check_recorded_id(kind: ResourceKind, arm_id: str, name: str, annotation: str) -> None:
    """Before a delete: the recorded id must name a resource of the kind's type called ``name``.

    Anything else (an annotation edited by hand, say) is never deleted; the object is kept until the
    annotation is fixed or the reconcile-policy lets it go without a delete.
    """
    problem = id_problem(arm_id, kind.arm_type)
    if problem is None and arm_id.rstrip("/").rsplit("/", 1)[-1].lower() != name.lower():
        problem = f"{arm_id!r} does not end in the object's Azure name {name!r}"
    if problem is not None:
        raise RetryableError(
            f"metadata.annotations[{annotation!r}]: {problem}; nothing is deleted in Azure, "
            "and the object is kept until the annotation is fixed or the reconcile-policy is "
            "detach-on-delete",
            reason="InvalidResourceId",
            severity="Error",
            delay=60,
        )
