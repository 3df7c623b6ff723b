"""What the reconciler reads from Kubernetes besides the object: policy, owner, references,
Secrets, ConfigMaps and credentials, all in the object's own namespace.

One function finds another custom resource (:meth:`Lookups.find`); the owner, the owner-deleting
check and ``*Reference`` fields all go through it. A Namespace's annotations and the namespace
credential Secret are asked for on every reconcile, so they are reused for a few seconds.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import Any

from aso.errors import PermanentError, RetryableError
from aso.host import Registry
from aso.kinds import ResourceKind, Scope
from aso.operator.armid import check_parent
from aso.operator.claims import POLICY_ANNOTATION, RESOURCE_ID_ANNOTATION
from aso.operator.context import ObjectContext
from aso.operator.credentials import CREDENTIAL_FROM_ANNOTATION, NAMESPACE_SECRET, CredentialSpec
from aso.operator.kubeapi import KubeClient, resource_path
from aso.operator.settings import POLICIES, Settings

__all__ = ["CACHE_SECONDS", "Lookups", "Resolver"]

#: How long a Namespace's annotations and a namespace credential Secret are reused between reconciles.
CACHE_SECONDS = 10.0


class Lookups:
    """Kubernetes reads for the reconciler."""

    def __init__(self, kube: KubeClient, registry: Registry, settings: Settings) -> None:
        self.kube = kube
        self.registry = registry
        self.settings = settings
        self._namespaces: dict[str, tuple[float, Mapping[str, str]]] = {}
        self._secrets: dict[str, tuple[float, Mapping[str, Any] | None]] = {}

    # -- other custom resources ------------------------------------------------------------------

    async def find(self, kind: ResourceKind, namespace: str, name: str) -> Mapping[str, Any] | None:
        """The object ``name`` of ``kind`` in ``namespace`` (None when there is none)."""
        path = resource_path(kind.group, kind.stored_version, kind.plural, namespace, name)
        return await self.kube.get(path)

    def owner_kind(self, kind: ResourceKind, owner: Mapping[str, Any]) -> ResourceKind | None:
        """The kind ``spec.owner`` refers to (fixed by the kind, or named by group and kind)."""
        fixed = kind.owner_kind
        if fixed is not None:
            return self.registry.kind(fixed.group, fixed.kind)
        if owner.get("group") and owner.get("kind"):
            return self.registry.kind(str(owner["group"]), str(owner["kind"]))
        return None

    async def owner(self, ctx: ObjectContext) -> tuple[str | None, Mapping[str, Any] | None]:
        """(parent ARM id, owner object when the owner is a custom resource); None id at subscription
        scope. The parent id is checked to be of the type the kind's resources hang below."""
        kind = ctx.kind
        if kind.owner is Scope.SUBSCRIPTION:
            return None, None
        owner = ctx.spec.get("owner") or {}
        if owner.get("armId"):
            return check_parent(kind, str(owner["armId"]), "spec.owner.armId"), None
        decl = self.owner_kind(kind, owner)
        name = owner.get("name")
        if not name or decl is None:
            raise PermanentError(
                "spec.owner: give name (of the owner in this namespace) or armId", reason="InvalidOwner"
            )
        found = await self.find(decl, ctx.namespace, str(name))
        label = f"{decl.kind} {ctx.namespace}/{name}"
        if found is None:
            raise RetryableError(f"owner {label} does not exist", reason="WaitingForOwner")
        arm_id = _annotations(found).get(RESOURCE_ID_ANNOTATION)
        if not arm_id:
            raise RetryableError(f"owner {label} is not in Azure yet", reason="WaitingForOwner")
        where = f"owner {label} annotation {RESOURCE_ID_ANNOTATION}"
        return check_parent(kind, str(arm_id), where), found

    async def owner_deletes_with_it(self, ctx: ObjectContext) -> bool:
        """True when the owner object is being deleted under ``manage``: Azure deletes the child."""
        owner = ctx.spec.get("owner") or {}
        decl = None if ctx.kind.owner is Scope.SUBSCRIPTION else self.owner_kind(ctx.kind, owner)
        if decl is None or not owner.get("name"):
            return False
        found = await self.find(decl, ctx.namespace, str(owner["name"]))
        if found is None or not (found.get("metadata") or {}).get("deletionTimestamp"):
            return False
        owner_ctx = ObjectContext(kind=decl, body=found, patch={}, log=ctx.log)
        return await self.policy(owner_ctx) == "manage"

    def resolver(self, namespace: str) -> Resolver:
        return Resolver(self, namespace)

    # -- policy ----------------------------------------------------------------------------------

    async def namespace_annotations(self, namespace: str) -> Mapping[str, str]:
        cached = self._namespaces.get(namespace)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        ns = await self.kube.get(resource_path("", "v1", "namespaces", None, namespace))
        annotations = _annotations(ns)
        self._namespaces[namespace] = (time.monotonic() + CACHE_SECONDS, annotations)
        return annotations

    async def policy(self, ctx: ObjectContext) -> str:
        """The reconcile policy: the object's annotation, else its Namespace's, else the default."""
        value = ctx.annotations.get(POLICY_ANNOTATION)
        where = f"metadata.annotations[{POLICY_ANNOTATION!r}]"
        if value is None:
            value = (await self.namespace_annotations(ctx.namespace)).get(POLICY_ANNOTATION)
            where = f"Namespace {ctx.namespace} annotation {POLICY_ANNOTATION!r}"
        if value is None:
            return self.settings.default_reconcile_policy
        if value not in POLICIES:
            raise PermanentError(
                f"{where}: {value!r} is not one of {', '.join(POLICIES)}", reason="InvalidPolicy"
            )
        return value

    # -- Secrets and credentials -----------------------------------------------------------------

    async def secret(self, namespace: str, name: str, *, cache: bool = False) -> Mapping[str, Any] | None:
        path = resource_path("", "v1", "secrets", namespace, name)
        if not cache:
            return await self.kube.get(path)
        cached = self._secrets.get(path)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        found = await self.kube.get(path)
        self._secrets[path] = (time.monotonic() + CACHE_SECONDS, found)
        return found

    async def credential(self, ctx: ObjectContext) -> CredentialSpec:
        """As ASO v2: the Secret named by ``credential-from``, else ``aso-credential`` in the
        namespace, else the operator's global credential."""
        named = ctx.annotations.get(CREDENTIAL_FROM_ANNOTATION)
        secret_name = named or NAMESPACE_SECRET
        secret = await self.secret(ctx.namespace, secret_name, cache=named is None)
        if secret is None:
            if named:
                raise RetryableError(
                    f"metadata.annotations[{CREDENTIAL_FROM_ANNOTATION!r}]: "
                    f"Secret {ctx.namespace}/{named} not found",
                    reason="SecretNotFound",
                )
            return CredentialSpec.global_(self.settings)
        data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        return CredentialSpec.from_secret(data, f"Secret {ctx.namespace}/{secret_name}", self.settings)


class Resolver:
    """Secret, ConfigMap and resource references of one object, in its own namespace only."""

    def __init__(self, lookups: Lookups, namespace: str) -> None:
        self.lookups = lookups
        self.namespace = namespace
        #: Secret name -> resourceVersion of every Secret read: write-only values never come back
        #: from ARM, so a change of one is seen as a change of its Secret's resourceVersion.
        self.secret_versions: dict[str, str] = {}

    async def secret(self, name: str, key: str, field: str) -> str:
        found = await self.lookups.secret(self.namespace, name)
        value = ((found or {}).get("data") or {}).get(key)
        if value is None:
            what = f" has no key {key!r}" if found is not None else f" not found (key {key!r} wanted)"
            raise RetryableError(
                f"spec.{field}: Secret {self.namespace}/{name}{what}", reason="SecretNotFound"
            )
        self.secret_versions[name] = str(((found or {}).get("metadata") or {}).get("resourceVersion", ""))
        return base64.b64decode(value).decode()

    def secrets_fingerprint(self) -> str | None:
        """``name=resourceVersion`` of the Secrets read, sorted (None when none was read); names and
        versions only, never a value."""
        if not self.secret_versions:
            return None
        return ",".join(f"{name}={version}" for name, version in sorted(self.secret_versions.items()))

    async def config(self, name: str, key: str, field: str) -> str:
        path = resource_path("", "v1", "configmaps", self.namespace, name)
        found = await self.lookups.kube.get(path)
        value = ((found or {}).get("data") or {}).get(key)
        if value is None:
            what = f" has no key {key!r}" if found is not None else f" not found (key {key!r} wanted)"
            raise RetryableError(
                f"spec.{field}: ConfigMap {self.namespace}/{name}{what}", reason="ConfigMapNotFound"
            )
        return str(value)

    async def reference(self, ref: Mapping[str, Any], field: str) -> str:
        if ref.get("armId"):
            return str(ref["armId"])
        group, kind_name, name = ref.get("group"), ref.get("kind"), ref.get("name")
        kind = self.lookups.registry.kind(str(group), str(kind_name)) if group and kind_name else None
        if kind is None or not name:
            raise PermanentError(
                f"spec.{field}: give armId, or group, kind and name of a kind this operator serves",
                reason="ReferenceNotFound",
            )
        target = await self.lookups.find(kind, self.namespace, str(name))
        arm_id = _annotations(target).get(RESOURCE_ID_ANNOTATION)
        if not arm_id:
            state = "not found" if target is None else "has no Azure resource yet"
            raise RetryableError(
                f"spec.{field}: {kind.kind} {self.namespace}/{name} {state}", reason="ReferenceNotFound"
            )
        return str(arm_id)


def _annotations(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}
