"""What a plugin declares: a resource kind, its API versions, owner, exports and extension hooks.

Everything here is a frozen, keyword-only dataclass so that a declaration is plain data that the host
can validate, index and print. Reconcile-time behaviour a kind needs beyond the generic reconciler is
given as typed extension callables (see :mod:`aso.extensions`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from aso.names import NameRule

if TYPE_CHECKING:
    from aso.extensions import Extensions

__all__ = [
    "GVK",
    "ApiVersion",
    "Converter",
    "Export",
    "KindVersion",
    "NameRule",
    "OwnerKind",
    "ResourceKind",
    "Scope",
    "storage_version_name",
]

#: A converter takes an object body (``{"spec": ..., "status": ...}``) in one version and returns it
#: shaped for another. Fields the target version lacks need no care: the core keeps them in the
#: property bag and restores them on the way back.
Converter = Callable[[Mapping[str, Any]], dict[str, Any]]

#: ASO names the storage version of each served version by this suffix: ``v1api20200601storage``,
#: ``v20230801storage``. Served version names must not end with it.
STORAGE_SUFFIX = "storage"
_VERSION_NAME = re.compile(r"^v\d+(api|alpha|beta)?\d*[a-z0-9]*$")
_ARM_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_ARM_TYPE = re.compile(r"^[A-Za-z0-9]+\.[A-Za-z0-9.]+(/[A-Za-z0-9]+)+$")


def storage_version_name(version: str) -> str:
    """ASO's name of the storage version of ``version``: ``v1api20200601`` -> ``v1api20200601storage``."""
    return version + STORAGE_SUFFIX


class GVK(NamedTuple):
    """Kubernetes group, version and kind: the key of the host's table of loaded kinds
    (:attr:`aso.host.Registry.kinds`)."""

    group: str
    version: str
    kind: str

    def __str__(self) -> str:
        return f"{self.group}/{self.version}, Kind={self.kind}"


class Scope(enum.Enum):
    """Where a kind lives in ARM when it is not a child of another kind of ours."""

    #: ``/subscriptions/{sub}/resourceGroups/{name}``-style: no ``spec.owner`` (e.g. ResourceGroup).
    SUBSCRIPTION = "subscription"
    #: Top-level resource inside a resource group: ``spec.owner`` names a ResourceGroup (or an armId).
    RESOURCE_GROUP = "resourceGroup"
    #: Extension resource attached to any ARM resource: ``spec.owner`` has group, kind, name (or armId).
    EXTENSION = "extension"


@dataclass(frozen=True, kw_only=True)
class OwnerKind:
    """The kind of the parent of a child resource, e.g. StorageAccount for StorageAccountsBlobService."""

    group: str
    kind: str


#: The owner of every resource-group-scoped top-level kind.
#: The owner kind behind ``Scope.RESOURCE_GROUP`` (a kind declares the scope, never this).
_RESOURCE_GROUP_OWNER = OwnerKind(group="resources.azure.com", kind="ResourceGroup")


@dataclass(frozen=True, kw_only=True)
class KindVersion:
    """One served Kubernetes version of a kind, bound to one ARM API version.

    The CRD schema of the version is committed data in the plugin package:
    ``<schema_package>/schemas/<kind lowercased>.<name>.json`` (written by ``nox -s schemas``).
    """

    #: Kubernetes version name as ASO spells it, e.g. ``v1api20200601`` or ``v20230101``.
    name: str
    #: ARM ``api-version`` used for requests made for objects written in this version.
    arm_api_version: str
    #: Body converter from this version to the hub (storage) version; ``None`` is a plain copy.
    to_hub: Converter | None = None
    #: Body converter from the hub version to this one; ``None`` is a plain copy.
    from_hub: Converter | None = None


#: The name ``KindVersion`` had before: an object where ``api_version`` is a string elsewhere.
#: Kept because plugins outside this repository may import it; new code says ``KindVersion``.
ApiVersion = KindVersion


@dataclass(frozen=True, kw_only=True)
class Export:
    """A value the kind can write to a Secret or ConfigMap named in ``spec.operatorSpec``.

    The value is read from the resource body after a GET (``action=None``) or from the response of a
    POST action on the resource such as ``listKeys``.
    """

    #: Property name under ``spec.operatorSpec.secrets`` (or ``configMaps``), e.g. ``primaryKey``.
    name: str
    #: Secret (True) or ConfigMap (False).
    secret: bool
    #: Dotted path into the body, list items by index: ``properties.primaryEndpoints.blob``,
    #: ``keys[0].value``.
    path: str
    #: POST action on the resource id whose response holds the value, e.g. ``listKeys``.
    action: str | None = None
    #: ARM api-version for the action when it differs from the resource's.
    action_api_version: str | None = None
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class ResourceKind:
    """A custom resource kind that the operator reconciles against one ARM resource type."""

    #: Kubernetes API group, e.g. ``storage.azure.com``.
    group: str
    #: Kubernetes kind, e.g. ``StorageAccount``.
    kind: str
    #: Lower-case plural used in URLs and the CRD name, e.g. ``storageaccounts``.
    plural: str
    #: ARM resource type with provider namespace, e.g. ``Microsoft.Storage/storageAccounts`` or
    #: ``Microsoft.Storage/storageAccounts/blobServices/containers`` for a child two levels deep.
    arm_type: str
    #: The owner: a scope, or the kind of the parent for child resources.
    owner: Scope | OwnerKind
    #: Versions users write; exactly one of them is named by ``storage_version``. Each also gets a
    #: generated storage version (ASO's ``<name>storage``), served but not for users to write.
    versions: tuple[KindVersion, ...]
    #: The hub: the served version every ``to_hub``/``from_hub`` converter goes to and from. Kubernetes
    #: stores its storage version, :attr:`stored_version` (``v1api20200601`` -> ``v1api20200601storage``):
    #: the hub's schema plus ``spec.originalVersion`` and ASO's ``$propertyBag`` fields. Pick the
    #: version whose storage version ASO v2 stores, so an ASO v2 cluster's objects are taken over as
    #: they are.
    storage_version: str
    #: Import package holding ``schemas/`` for this kind.
    schema_package: str
    short_names: tuple[str, ...] = ()
    #: Fixed ARM name for singleton children (``default`` for blobServices); then there is no
    #: ``spec.azureName``.
    azure_name: str | None = None
    #: ARM's naming rule for this type (into the CRD and checked before any request); ``None``
    #: applies only ARM's general rule.
    name_rule: NameRule | None = None
    exports: tuple[Export, ...] = ()
    #: ARM paths the service takes on PUT and never returns on GET (Cosmos DB databases and
    #: containers: ``properties.options``, ``location``, ``tags``): sent, never compared for drift.
    write_only: tuple[str, ...] = ()
    #: Optional reconcile-time customisation; ``None`` means the generic behaviour throughout.
    extensions: Extensions | None = None
    #: Free text for ``aso plugins`` and docs.
    description: str = ""

    def version(self, name: str) -> KindVersion:
        """The served version called ``name``; KeyError if the kind does not serve it."""
        for version in self.versions:
            if version.name == name:
                return version
        raise KeyError(f"{self.group}/{self.kind} does not serve version {name!r}")

    @property
    def hub(self) -> KindVersion:
        return self.version(self.storage_version)

    @property
    def stored_version(self) -> str:
        """The version Kubernetes stores and the operator watches and writes: the hub's storage
        version (``v1api20200601storage``). Every user write at a served version converts to it."""
        return storage_version_name(self.storage_version)

    def storage_versions(self) -> tuple[str, ...]:
        """ASO's storage version of every served version, in the order of :attr:`versions`."""
        return tuple(storage_version_name(v.name) for v in self.versions)

    def served_version_of(self, name: str) -> KindVersion:
        """The served version ``name`` is, or is the storage version of; KeyError if neither."""
        if name.endswith(STORAGE_SUFFIX):
            name = name[: -len(STORAGE_SUFFIX)]
        return self.version(name)

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"

    def gvks(self) -> list[GVK]:
        return [GVK(self.group, v.name, self.kind) for v in self.versions]

    def problems(self) -> list[str]:
        """Everything wrong with this declaration, each naming the field; empty when valid."""
        found: list[str] = []
        if not _DNS_SUBDOMAIN.match(self.group) or "." not in self.group:
            found.append(f"group {self.group!r}: must be a DNS subdomain such as 'storage.azure.com'")
        if not _KIND.match(self.kind):
            found.append(f"kind {self.kind!r}: must be CamelCase letters and digits")
        if not _DNS_SUBDOMAIN.match(self.plural) or "." in self.plural:
            found.append(f"plural {self.plural!r}: must be lower-case letters, digits and '-'")
        if not _ARM_TYPE.match(self.arm_type):
            found.append(f"arm_type {self.arm_type!r}: must look like 'Microsoft.Provider/type[/child]'")
        if not self.versions:
            found.append("versions: at least one KindVersion is required")
        names = [v.name for v in self.versions]
        if len(set(names)) != len(names):
            found.append(f"versions: duplicate version names in {names}")
        for version in self.versions:
            if not _VERSION_NAME.match(version.name):
                found.append(
                    f"versions[{version.name!r}].name: must look like 'v1api20200601' or 'v20230101'"
                )
            if version.name.endswith(STORAGE_SUFFIX):
                found.append(
                    f"versions[{version.name!r}].name: names ending in {STORAGE_SUFFIX!r} are the "
                    "generated storage versions; declare the served version only"
                )
            if not _ARM_API_VERSION.match(version.arm_api_version):
                found.append(
                    f"versions[{version.name!r}].arm_api_version {version.arm_api_version!r}: "
                    "must look like '2021-04-01' or '2021-04-01-preview'"
                )
        if self.storage_version not in names:
            found.append(
                f"storage_version {self.storage_version!r}: must be one of the served versions {names}"
            )
        for short in self.short_names:
            if not _DNS_SUBDOMAIN.match(short) or "." in short:
                found.append(f"short_names: {short!r} must be lower-case letters and digits")
        if self.name_rule is not None and self.name_rule.pattern is not None:
            try:
                re.compile(self.name_rule.pattern)
            except re.error as exc:
                found.append(
                    f"name_rule.pattern {self.name_rule.pattern!r}: not a regular expression ({exc})"
                )
        # A name may be exported once as a Secret and once as a ConfigMap (ASO's storage accounts
        # export blobEndpoint both ways); twice to the same destination is a mistake.
        export_keys = [("secrets" if e.secret else "configMaps", e.name) for e in self.exports]
        if len(set(export_keys)) != len(export_keys):
            repeated = {key for key in export_keys if export_keys.count(key) > 1}
            dupes = sorted(f"{where}.{name}" for where, name in repeated)
            found.append(f"exports: duplicate names in {dupes}")
        child_depth = self.arm_type.count("/") - 1
        if isinstance(self.owner, Scope) and child_depth > 0 and self.owner is not Scope.EXTENSION:
            found.append(f"owner: {self.arm_type} is a child type; owner must be the OwnerKind of its parent")
        if isinstance(self.owner, OwnerKind) and child_depth == 0:
            found.append(
                f"owner: {self.arm_type} is top-level; use Scope.RESOURCE_GROUP or Scope.SUBSCRIPTION"
            )
        return found

    @property
    def owner_kind(self) -> OwnerKind | None:
        """The kind ``spec.owner.name`` refers to; None when the owner is any kind or there is none."""
        if isinstance(self.owner, OwnerKind):
            return self.owner
        if self.owner is Scope.RESOURCE_GROUP:
            return _RESOURCE_GROUP_OWNER
        return None
