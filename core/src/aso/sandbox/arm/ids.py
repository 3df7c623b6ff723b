"""ARM resource ids: parse request paths into scopes, provider namespaces, types and names.

ARM ids are case-insensitive. The emulator keys its store by the lower-cased id and keeps the
casing of the creating request for what it returns. ``subscriptions``, ``resourceGroups`` and
``providers`` are always spelled canonically in returned ids (the SDK sends ``resourcegroups``
for resource-group operations, Azure answers ``resourceGroups``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"


@dataclass(frozen=True, slots=True)
class ArmPath:
    """A parsed ARM request path.

    ``types`` and ``names`` describe the provider part: for
    ``.../providers/Microsoft.Storage/storageAccounts/a/blobServices/default`` they are
    ``("storageAccounts", "blobServices")`` and ``("a", "default")``. When the path ends with a
    type but no name (a collection, or a POST action), ``trailing`` holds that last segment.
    """

    subscription: str
    resource_group: str | None = None
    namespace: str | None = None
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    trailing: str | None = None
    # Canonical id of the scope the provider part hangs below (subscription, resource group or
    # another resource for extension resources).
    scope_id: str = ""
    # True when the path is ``/subscriptions/{s}/resourceGroups`` (the collection).
    resource_groups_collection: bool = False

    @property
    def is_subscription(self) -> bool:
        return self.resource_group is None and self.namespace is None and not self.resource_groups_collection

    @property
    def is_resource_group(self) -> bool:
        return self.resource_group is not None and self.namespace is None and self.trailing is None

    @property
    def is_resource(self) -> bool:
        return self.namespace is not None and len(self.types) == len(self.names) and bool(self.names)

    @property
    def full_type(self) -> str:
        """``Namespace/type/childType`` of the resource (or of the collection/action target)."""
        if self.namespace is None:
            return RESOURCE_GROUP_TYPE if self.resource_group else "subscriptions"
        return "/".join((self.namespace, *self.types))

    @property
    def id(self) -> str:
        """Canonical id of the addressed resource, resource group or subscription."""
        if self.namespace is None:
            if self.resource_group is not None:
                return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            return f"/subscriptions/{self.subscription}"
        parts = [self.scope_id, "providers", self.namespace]
        for type_, name in zip(self.types, self.names, strict=False):
            parts += [type_, name]
        return "/".join(parts)

    @property
    def parent_id(self) -> str:
        """Id of the resource this one must live in (its scope for top-level types)."""
        if len(self.names) > 1:
            return self.id.rsplit("/", 2)[0]
        return self.scope_id

    @property
    def rg_id(self) -> str | None:
        if self.resource_group is None:
            return None
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"


def split_path(path: str) -> list[str]:
    return [unquote(s) for s in path.strip("/").split("/") if s]


def parse(path: str) -> ArmPath | None:
    """Parse the path of an ARM request (no query string). None when it is not an ARM path."""
    segs = split_path(path)
    if len(segs) < 2 or segs[0].lower() != "subscriptions":
        return None
    sub = segs[1]
    rest = segs[2:]
    rg: str | None = None
    if rest and rest[0].lower() == "resourcegroups":
        if len(rest) == 1:
            return ArmPath(subscription=sub, resource_groups_collection=True)
        rg = rest[1]
        rest = rest[2:]
    scope = f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg is not None else "")
    if not rest:
        return ArmPath(subscription=sub, resource_group=rg, scope_id=scope)
    if rest[0].lower() != "providers":
        # e.g. /subscriptions/{s}/resources or /subscriptions/{s}/operationresults/{id}
        return ArmPath(subscription=sub, resource_group=rg, trailing="/".join(rest), scope_id=scope)
    # Extension resources: a nested ``providers`` at a pair boundary starts a new provider part
    # whose scope is the resource before it.
    provider_starts = [
        i for i in range(0, len(rest), 2) if rest[i].lower() == "providers" and i + 1 < len(rest)
    ]
    last = provider_starts[-1] if provider_starts else 0
    for i in provider_starts[:-1]:
        ns = rest[i + 1]
        pairs = rest[i + 2 : next(j for j in provider_starts if j > i)]
        scope += f"/providers/{ns}/" + "/".join(pairs)
    if len(rest) < last + 2:
        return None
    ns = rest[last + 1]
    tail = rest[last + 2 :]
    types = tuple(tail[0::2])
    names = tuple(tail[1::2])
    trailing = None
    if len(types) > len(names):
        trailing = types[-1]
    return ArmPath(
        subscription=sub,
        resource_group=rg,
        namespace=ns,
        types=types,
        names=names,
        trailing=trailing,
        scope_id=scope,
    )


def key(resource_id: str) -> str:
    """Store key of an id: ARM ids compare case-insensitively."""
    return resource_id.rstrip("/").lower()
