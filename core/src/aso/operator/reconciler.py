"""The generic reconciler: one implementation for every kind, customised only through extensions.

It never imports kopf. The kopf layer (:mod:`aso.operator.app`) hands it the object and a patch to
fill, and turns the errors it raises into retries, conditions and events.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from azure.core.pipeline.transport import AsyncHttpTransport

from aso.conversion import original_version
from aso.errors import AsoError, PermanentError, RetryableError
from aso.extensions import ArmErrorInfo, Classification
from aso.host import Registry
from aso.kinds import GENERAL_NAME_RULE, ApiVersion, Export, OwnerKind, ResourceKind, Scope
from aso.operator import mapping
from aso.operator.arm import AUTHENTICATION_FAILED, ArmClient, ArmError, RateLimiter
from aso.operator.armid import child_id, id_problem, parent_type, subscription_of
from aso.operator.claims import (
    POLICY_ANNOTATION,
    RESOURCE_ID_ANNOTATION,
    Claimant,
    ClaimLookup,
    claimant,
    no_claims,
)
from aso.operator.conditions import find_ready, ready_condition, replace_ready
from aso.operator.credentials import (
    CREDENTIAL_FROM_ANNOTATION,
    NAMESPACE_SECRET,
    CredentialSpec,
    build_credential,
)
from aso.operator.kubeapi import KubeApi, resource_path
from aso.operator.operations import (
    OPERATION_ANNOTATION,
    TERMINAL_FAILED,
    Operation,
    OperationRejected,
    poll_once,
    start,
)
from aso.operator.settings import POLICIES, Settings
from aso.schemas import object_schema

__all__ = [
    "FINALIZER",
    "ORIGIN_ANNOTATION",
    "POLICY_ANNOTATION",
    "RESOURCE_ID_ANNOTATION",
    "ObjectContext",
    "Reconciler",
    "classify",
]

FINALIZER = "serviceoperator.azure.com/finalizer"
#: ``created`` when aso created the Azure resource, ``adopted`` when it existed before.
ORIGIN_ANNOTATION = "aso.dev/origin"

T = TypeVar("T")
#: How long a Namespace's annotations and a namespace credential Secret are reused between reconciles.
CACHE_SECONDS = 10.0

_RETRYABLE_CODES = frozenset(
    {
        "conflict",
        "authorizationfailed",
        "resourcequotaexceeded",
        "parentresourcenotfound",
        "resourcegroupnotfound",
        "resourcenotfound",
        "toomanyrequests",
        "throttled",
        "networkerror",
        "invalidauthenticationtoken",
        "internalservererror",
        "serviceunavailable",
        "gatewaytimeout",
        "anotheroperationinprogress",
        "operationnotallowed",
    }
)


def classify(error: ArmErrorInfo) -> Classification:
    """The default classification: can it heal by itself (retry, Warning) or must the user act (Error)?"""
    code = error.code.lower()
    if code == AUTHENTICATION_FAILED.lower():
        # A wrong secret or an unknown client does not heal by itself, but the user may fix the
        # Secret: keep trying (slowly), and say it is theirs to fix.
        return Classification(retry=True, severity="Error", reason=AUTHENTICATION_FAILED, delay=60.0)
    if error.status == 0 or error.status == 429 or error.status >= 500 or code in _RETRYABLE_CODES:
        return Classification(retry=True, severity="Warning", reason=error.code, delay=error.retry_after)
    if error.status in (401, 403, 404, 408):
        return Classification(retry=True, severity="Warning", reason=error.code, delay=error.retry_after)
    return Classification(retry=False, severity="Error", reason=error.code)


@dataclass
class ObjectContext:
    """One object being handled: what the reconciler reads and the patch it fills."""

    kind: ResourceKind
    body: Mapping[str, Any]
    patch: dict[str, Any]
    log: logging.Logger | logging.LoggerAdapter[logging.Logger]
    #: Filled by the reconciler: the ARM id once known.
    arm_id: str | None = None
    api_version: ApiVersion | None = None
    arm: ArmClient | None = None
    #: Every object claiming an ARM id (fed by the watch); see :mod:`aso.operator.claims`.
    claimants: ClaimLookup = no_claims
    _status: dict[str, Any] = field(default_factory=dict)

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self.body.get("metadata") or {}

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or "default")

    @property
    def name(self) -> str:
        return str(self.metadata.get("name"))

    @property
    def annotations(self) -> Mapping[str, str]:
        return self.metadata.get("annotations") or {}

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.body.get("spec") or {}

    @property
    def status(self) -> Mapping[str, Any]:
        return self.body.get("status") or {}

    @property
    def azure_name(self) -> str:
        return self.kind.azure_name or str(self.spec.get("azureName") or self.name)

    @property
    def me(self) -> Claimant:
        return claimant(self.kind.kind, self.body)

    def other_claimants(self, arm_id: str) -> list[Claimant]:
        """Objects other than this one claiming ``arm_id``, oldest first."""
        mine = self.me.uid
        return sorted(c for c in self.claimants(arm_id) if c.uid != mine)

    def annotate(self, key: str, value: str | None) -> None:
        """Set (or with None, remove) an annotation in the patch, only if that changes it."""
        if self.annotations.get(key) != value:
            self.patch.setdefault("metadata", {}).setdefault("annotations", {})[key] = value

    def remember_annotation(self, key: str, value: str) -> None:
        """Record an annotation written directly to the API server (not through the patch)."""
        metadata = dict(self.metadata)
        metadata["annotations"] = {**self.annotations, key: value}
        self.body = {**self.body, "metadata": metadata}

    def set_status(self, status: Mapping[str, Any]) -> None:
        self._status = dict(status)

    def set_ready(self, *, ready: bool, severity: str, reason: str, message: str) -> dict[str, Any]:
        """Put the Ready condition (and any status set before) into the patch when they change."""
        previous = find_ready(self.status)
        condition = ready_condition(
            ready=ready,
            severity=severity,
            reason=reason,
            message=message,
            generation=self.metadata.get("generation"),
            previous=previous,
        )
        new_status = {k: v for k, v in self._status.items() if self.status.get(k) != v}
        # Fields ARM no longer reports are removed (merge patch: null deletes).
        if self._status:
            for key in self.status:
                if key not in self._status and key != "conditions":
                    new_status[key] = None
        if previous != condition:
            new_status["conditions"] = replace_ready(self.status.get("conditions"), condition)
        if new_status:
            self.patch.setdefault("status", {}).update(new_status)
        return condition


class _KubeResolver:
    """Resolves Secret, ConfigMap and resource references in the object's own namespace only."""

    def __init__(self, kube: KubeApi, registry: Registry, namespace: str) -> None:
        self.kube = kube
        self.registry = registry
        self.namespace = namespace

    async def secret(self, name: str, key: str, field: str) -> str:
        secret = await self.kube.get(resource_path("", "v1", "secrets", self.namespace, name))
        value = ((secret or {}).get("data") or {}).get(key)
        if secret is None or value is None:
            what = f"Secret {self.namespace}/{name}" + (
                f" has no key {key!r}" if secret is not None else " not found"
            )
            raise RetryableError(f"spec.{field}: {what}", reason="SecretNotFound")
        return base64.b64decode(value).decode()

    async def config(self, name: str, key: str, field: str) -> str:
        config_map = await self.kube.get(resource_path("", "v1", "configmaps", self.namespace, name))
        value = ((config_map or {}).get("data") or {}).get(key)
        if config_map is None or value is None:
            what = f"ConfigMap {self.namespace}/{name}" + (
                f" has no key {key!r}" if config_map else " not found"
            )
            raise RetryableError(f"spec.{field}: {what}", reason="ConfigMapNotFound")
        return str(value)

    async def reference(self, ref: Mapping[str, Any], field: str) -> str:
        if ref.get("armId"):
            return str(ref["armId"])
        group, kind_name, name = ref.get("group"), ref.get("kind"), ref.get("name")
        kind = self.registry.kind(str(group), str(kind_name)) if group and kind_name else None
        if kind is None or not name:
            raise PermanentError(
                f"spec.{field}: give armId, or group, kind and name of a kind this operator serves",
                reason="ReferenceNotFound",
            )
        target = await self.kube.get(
            resource_path(kind.group, kind.storage_version, kind.plural, self.namespace, str(name))
        )
        arm_id = ((target or {}).get("metadata", {}).get("annotations") or {}).get(RESOURCE_ID_ANNOTATION)
        if not arm_id:
            state = "not found" if target is None else "has no Azure resource yet"
            raise RetryableError(
                f"spec.{field}: {kind.kind} {self.namespace}/{name} {state}", reason="ReferenceNotFound"
            )
        return str(arm_id)


class Reconciler:
    """Create/update, delete and drift sync for any registered kind."""

    def __init__(self, settings: Settings, registry: Registry, kube: KubeApi) -> None:
        self.settings = settings
        self.registry = registry
        self.kube = kube
        self.limiter = RateLimiter(settings.arm_rate, settings.arm_burst)
        self._clients: dict[str, ArmClient] = {}
        self._transport: Any = None
        self._namespace_cache: dict[str, tuple[float, Mapping[str, str]]] = {}
        self._secret_cache: dict[str, tuple[float, Mapping[str, Any] | None]] = {}
        self.semaphore = asyncio.Semaphore(settings.max_concurrent_reconciles)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        if self._transport is not None:
            await self._transport.close()

    # -- policy, owner, credentials -------------------------------------------------------------

    async def _namespace_annotations(self, namespace: str) -> Mapping[str, str]:
        cached = self._namespace_cache.get(namespace)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        ns = await self.kube.get(resource_path("", "v1", "namespaces", None, namespace))
        annotations = ((ns or {}).get("metadata") or {}).get("annotations") or {}
        self._namespace_cache[namespace] = (time.monotonic() + CACHE_SECONDS, annotations)
        return annotations

    async def _secret(self, namespace: str, name: str, *, cache: bool) -> Mapping[str, Any] | None:
        """A Secret; the namespace credential is cached for a few seconds (every reconcile asks)."""
        path = resource_path("", "v1", "secrets", namespace, name)
        if not cache:
            return await self.kube.get(path)
        cached = self._secret_cache.get(path)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        secret = await self.kube.get(path)
        self._secret_cache[path] = (time.monotonic() + CACHE_SECONDS, secret)
        return secret

    async def policy(self, ctx: ObjectContext) -> str:
        value = ctx.annotations.get(POLICY_ANNOTATION)
        where = f"metadata.annotations[{POLICY_ANNOTATION!r}]"
        if value is None:
            value = (await self._namespace_annotations(ctx.namespace)).get(POLICY_ANNOTATION)
            where = f"Namespace {ctx.namespace} annotation {POLICY_ANNOTATION!r}"
        if value is None:
            return self.settings.default_reconcile_policy
        if value not in POLICIES:
            raise PermanentError(
                f"{where}: {value!r} is not one of {', '.join(POLICIES)}", reason="InvalidPolicy"
            )
        return value

    async def _owner(self, ctx: ObjectContext) -> tuple[str | None, Mapping[str, Any] | None]:
        """(parent ARM id, owner object if the owner is a custom resource); None id for subscription scope."""
        kind = ctx.kind
        if kind.owner is Scope.SUBSCRIPTION:
            return None, None
        owner = ctx.spec.get("owner") or {}
        if owner.get("armId"):
            return _checked_parent(kind, str(owner["armId"]), "spec.owner.armId"), None
        name = owner.get("name")
        owner_kind = kind.owner_kind
        if owner_kind is None and owner.get("group") and owner.get("kind"):
            owner_kind_decl = self.registry.kind(str(owner["group"]), str(owner["kind"]))
        elif owner_kind is not None:
            owner_kind_decl = self.registry.kind(owner_kind.group, owner_kind.kind)
        else:
            owner_kind_decl = None
        if not name or owner_kind_decl is None:
            raise PermanentError(
                "spec.owner: give name (of the owner in this namespace) or armId", reason="InvalidOwner"
            )
        path = resource_path(
            owner_kind_decl.group,
            owner_kind_decl.storage_version,
            owner_kind_decl.plural,
            ctx.namespace,
            str(name),
        )
        owner_obj = await self.kube.get(path)
        label = f"{owner_kind_decl.kind} {ctx.namespace}/{name}"
        if owner_obj is None:
            raise RetryableError(f"owner {label} does not exist", reason="WaitingForOwner")
        arm_id = ((owner_obj.get("metadata") or {}).get("annotations") or {}).get(RESOURCE_ID_ANNOTATION)
        if not arm_id:
            raise RetryableError(f"owner {label} is not in Azure yet", reason="WaitingForOwner")
        where = f"owner {label} annotation {RESOURCE_ID_ANNOTATION}"
        return _checked_parent(kind, str(arm_id), where), owner_obj

    async def _credential(self, ctx: ObjectContext) -> CredentialSpec:
        named = ctx.annotations.get(CREDENTIAL_FROM_ANNOTATION)
        secret_name = named or NAMESPACE_SECRET
        secret = await self._secret(ctx.namespace, secret_name, cache=named is None)
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

    def _client(self, spec: CredentialSpec) -> ArmClient:
        client = self._clients.get(spec.cache_key)
        if client is None:
            if self._transport is None:
                self._transport = _transport(self.settings)
            client = ArmClient(
                self.settings,
                build_credential(spec, self.settings),
                _SharedTransport(self._transport),
                self.limiter,
                spec.subscription_id,
            )
            self._clients[spec.cache_key] = client
        return client

    async def _prepare(self, ctx: ObjectContext) -> tuple[str, Mapping[str, Any] | None]:
        """Resolve owner, credential and ARM id; check the id did not change. Returns (id, owner object)."""
        parent_id, owner_obj = await self._owner(ctx)
        spec = await self._credential(ctx)
        if parent_id is not None:
            parent_sub = subscription_of(parent_id)
            if parent_sub and parent_sub.lower() != spec.subscription_id.lower():
                raise RetryableError(
                    f"the owner is in subscription {parent_sub} but the credential ({spec.source}) is for "
                    f"subscription {spec.subscription_id}",
                    reason="SubscriptionMismatch",
                    severity="Error",
                    delay=300,
                )
        ctx.arm = self._client(spec)
        arm_id = _build_id(ctx, parent_id, spec.subscription_id)
        known = ctx.annotations.get(RESOURCE_ID_ANNOTATION)
        if known and known.lower() != arm_id.lower():
            raise PermanentError(
                f"spec.azureName/spec.owner: the resource is {known}; it cannot move to {arm_id} "
                "(azureName and owner are immutable; delete and recreate the object instead)",
                reason="ImmutableFieldChanged",
            )
        ctx.arm_id = arm_id
        ctx.api_version = ctx.kind.version(original_version(ctx.kind, ctx.body))
        return arm_id, owner_obj

    def _claim(self, ctx: ObjectContext, arm_id: str) -> None:
        """Refuse unless this object is the one that manages ``arm_id`` (see :mod:`.claims`)."""
        others = ctx.other_claimants(arm_id)
        if not others:
            return
        mine = (ctx.annotations.get(RESOURCE_ID_ANNOTATION) or "").lower() == arm_id.lower()
        first = others[0]
        if mine and ctx.me < first:
            return  # claimed at the same moment as a younger object: the oldest keeps it
        if mine:
            ctx.annotate(RESOURCE_ID_ANNOTATION, None)
        raise RetryableError(
            f"{arm_id} is already managed by {first}; this object will not write or delete it "
            "(delete this object, or the other one, to settle it)",
            reason="ResourceAlreadyManaged",
            severity="Error",
            delay=60,
        )

    # -- create / update / sync -----------------------------------------------------------------

    async def reconcile(self, ctx: ObjectContext) -> dict[str, Any]:
        """Bring Azure to the spec (or, with policy skip, only read it); returns the Ready condition."""
        _check_name(ctx)
        policy = await self.policy(ctx)
        arm_id, owner_obj = await self._prepare(ctx)
        if policy != "skip":
            self._claim(ctx, arm_id)
        assert ctx.arm is not None
        assert ctx.api_version is not None
        api_version = ctx.api_version.arm_api_version
        if owner_obj is not None:
            self._own_by(ctx, owner_obj)

        if policy == "skip":
            current = await self._arm(ctx, ctx.arm.get(arm_id, api_version))
            if current is None:
                raise RetryableError(
                    f"{arm_id} does not exist in Azure (reconcile-policy skip never creates it)",
                    reason="AzureResourceNotFound",
                )
            return await self._finish(ctx, current)

        schema = object_schema(ctx.kind, ctx.api_version.name)["properties"]["spec"]
        resolver = _KubeResolver(self.kube, self.registry, ctx.namespace)
        body, write_only = await mapping.arm_body(schema, ctx.spec, resolver)
        body = await self._extension(ctx, "arm_body", lambda: _value(body))

        operation = self._operation_record(ctx)
        if operation is not None:
            if operation.method != "PUT" or operation.arm_id.lower() != arm_id.lower():
                ctx.annotate(OPERATION_ANNOTATION, None)
                raise PermanentError(
                    f"metadata.annotations[{OPERATION_ANNOTATION!r}]: records {operation.method} of "
                    f"{operation.arm_id}, not a PUT of {arm_id}; record dropped",
                    reason="OperationRejected",
                )
            return await self._follow(ctx, operation)

        current = await self._arm(ctx, ctx.arm.get(arm_id, api_version))
        await self._extension(ctx, "pre_reconcile", lambda: _value(None))
        if current is not None:
            self._check_location(ctx, body, current)
            drift = mapping.differences(body, current, frozenset(write_only))
            state = str((current.get("properties") or {}).get("provisioningState") or "").lower()
            if state in TERMINAL_FAILED:
                drift.append(f"properties.provisioningState ({state}: the last operation failed)")
            if not ctx.annotations.get(ORIGIN_ANNOTATION):
                ctx.annotate(ORIGIN_ANNOTATION, "adopted")
            if not drift:
                return await self._finish(ctx, current)
            ctx.log.info("%s differs from the spec at %s; updating", arm_id, ", ".join(drift[:10]))
        else:
            ctx.annotate(ORIGIN_ANNOTATION, "created")
        # The id is on the object before the first write: a delete from now on deletes what may exist.
        if ctx.annotations.get(RESOURCE_ID_ANNOTATION) != arm_id:
            await self._persist(ctx, {RESOURCE_ID_ANNOTATION: arm_id})
        response, operation = await self._arm(ctx, start(ctx.arm, "PUT", arm_id, api_version, body))
        if operation is None:
            result = response.body if isinstance(response.body, dict) and response.body.get("id") else None
            if result is None:
                result = await self._arm(ctx, ctx.arm.get(arm_id, api_version)) or {}
            return await self._finish(ctx, result)
        await self._persist_operation(ctx, operation)
        return await self._follow(ctx, operation)

    def _check_location(
        self, ctx: ObjectContext, body: Mapping[str, Any], current: Mapping[str, Any]
    ) -> None:
        want, have = body.get("location"), current.get("location")
        if (
            isinstance(want, str)
            and isinstance(have, str)
            and mapping.differences({"location": want}, {"location": have})
        ):
            raise PermanentError(
                f"spec.location: the resource is in {have!r}; location cannot change to {want!r} "
                "(delete and recreate the object instead)",
                reason="ImmutableFieldChanged",
            )

    def _own_by(self, ctx: ObjectContext, owner: Mapping[str, Any]) -> None:
        """Owner references let Kubernetes garbage-collect children with their owner."""
        meta = owner.get("metadata") or {}
        uid = meta.get("uid")
        existing = list(ctx.metadata.get("ownerReferences") or [])
        if not uid or any(ref.get("uid") == uid for ref in existing):
            return
        reference = {
            "apiVersion": owner.get("apiVersion"),
            "kind": owner.get("kind"),
            "name": meta.get("name"),
            "uid": uid,
        }
        ctx.patch.setdefault("metadata", {})["ownerReferences"] = [*existing, reference]

    def _operation_record(self, ctx: ObjectContext) -> Operation | None:
        raw = ctx.annotations.get(OPERATION_ANNOTATION)
        if not raw:
            return None
        try:
            return Operation.from_annotation(raw, self.settings)
        except OperationRejected as exc:
            ctx.annotate(OPERATION_ANNOTATION, None)
            raise PermanentError(f"{exc}; record dropped", reason="OperationRejected") from exc

    async def _persist_operation(self, ctx: ObjectContext, operation: Operation) -> None:
        """Write the record now, before polling: a restart then resumes it instead of a second PUT."""
        pending = (ctx.patch.get("metadata") or {}).get("annotations") or {}
        # The origin travels with the record: after a restart only the record says what happened.
        annotations = {OPERATION_ANNOTATION: operation.to_annotation()}
        if pending.get(ORIGIN_ANNOTATION):
            annotations[ORIGIN_ANNOTATION] = pending[ORIGIN_ANNOTATION]
        await self._persist(ctx, annotations)

    async def _persist(self, ctx: ObjectContext, annotations: Mapping[str, str]) -> None:
        """Write annotations to the object now (not with the handler's patch at its end)."""
        kind = ctx.kind
        path = resource_path(kind.group, kind.storage_version, kind.plural, ctx.namespace, ctx.name)
        await self.kube.merge_patch(path, {"metadata": {"annotations": dict(annotations)}})
        # What the object now holds, so that changing it later is seen as a change.
        for key, value in annotations.items():
            ctx.remember_annotation(key, value)

    async def _follow(self, ctx: ObjectContext, operation: Operation) -> dict[str, Any]:
        """Poll the operation for a while; finish when done, else come back later (record stays)."""
        assert ctx.arm is not None
        deadline = time.monotonic() + self.settings.lro_inline_budget
        while True:
            try:
                done, wait = await poll_once(ctx.arm, operation)
            except ArmError as exc:
                if exc.status == 0 and exc.code == "OperationUrlRejected":
                    ctx.annotate(OPERATION_ANNOTATION, None)
                    raise PermanentError(exc.message, reason="OperationRejected") from exc
                if exc.status == 200 or exc.code == "ProvisioningFailed":
                    ctx.annotate(
                        OPERATION_ANNOTATION, None
                    )  # the operation is over; the next try starts anew
                raise self._classified(ctx, exc) from exc
            if done:
                break
            if time.monotonic() + wait > deadline:
                verb = "Deleting" if operation.method == "DELETE" else "Reconciling"
                raise RetryableError(
                    f"waiting for the {operation.method} of {operation.arm_id}",
                    reason=verb,
                    delay=wait,
                    severity="Info",
                )
            await asyncio.sleep(wait)
        ctx.annotate(OPERATION_ANNOTATION, None)
        if operation.method == "DELETE":
            return {}
        result = await self._arm(ctx, ctx.arm.get(operation.arm_id, operation.api_version))
        if result is None:
            raise RetryableError(
                f"{operation.arm_id} not found after its PUT finished", reason="ResourceNotFound"
            )
        return await self._finish(ctx, result)

    async def _finish(self, ctx: ObjectContext, resource: Mapping[str, Any]) -> dict[str, Any]:
        assert ctx.api_version is not None
        status_schema = object_schema(ctx.kind, ctx.api_version.name)["properties"]["status"]
        status = mapping.status_from_arm(status_schema, resource)
        arm_id = str(resource.get("id") or ctx.arm_id)
        status["id"] = arm_id
        ctx.set_status(status)
        ctx.annotate(RESOURCE_ID_ANNOTATION, arm_id)
        await self._export(ctx, resource)
        return ctx.set_ready(ready=True, severity="", reason="Succeeded", message="")

    # -- exports --------------------------------------------------------------------------------

    async def _export(self, ctx: ObjectContext, resource: Mapping[str, Any]) -> None:
        operator_spec = ctx.spec.get("operatorSpec") or {}
        wanted: list[tuple[Export, Mapping[str, Any]]] = []
        for export in ctx.kind.exports:
            section = operator_spec.get("secrets" if export.secret else "configMaps") or {}
            destination = section.get(export.name)
            if isinstance(destination, Mapping) and destination.get("name"):
                wanted.append((export, destination))
        if not wanted:
            return

        async def values() -> dict[str, str]:
            return await self._export_values(ctx, resource, [e for e, _ in wanted])

        computed = await self._extension(ctx, "export_values", values)
        grouped: dict[tuple[bool, str], dict[str, str]] = {}
        for export, destination in wanted:
            if export.name not in computed:
                raise RetryableError(
                    f"spec.operatorSpec: value {export.name!r} is not available yet", reason="ExportFailed"
                )
            key = str(destination.get("key") or export.name)
            grouped.setdefault((export.secret, str(destination["name"])), {})[key] = computed[export.name]
        for (secret, name), data in sorted(grouped.items()):
            await self._write_destination(ctx, secret, name, data)

    async def _export_values(
        self, ctx: ObjectContext, resource: Mapping[str, Any], exports: list[Export]
    ) -> dict[str, str]:
        assert ctx.arm is not None
        assert ctx.api_version is not None
        assert ctx.arm_id is not None
        responses: dict[tuple[str, str], Mapping[str, Any]] = {}
        out: dict[str, str] = {}
        for export in exports:
            source: Mapping[str, Any] = resource
            if export.action:
                version = export.action_api_version or ctx.api_version.arm_api_version
                key = (export.action, version)
                if key not in responses:
                    responses[key] = await self._arm(ctx, ctx.arm.post(ctx.arm_id, export.action, version))
                source = responses[key]
            value = _dig(source, export.path)
            if value is not None:
                out[export.name] = str(value)
        return out

    async def _write_destination(
        self, ctx: ObjectContext, secret: bool, name: str, data: Mapping[str, str]
    ) -> None:
        plural = "secrets" if secret else "configmaps"
        path = resource_path("", "v1", plural, ctx.namespace, None)
        existing = await self.kube.get(f"{path}/{name}")
        uid = ctx.metadata.get("uid")
        if existing is not None:
            owners = (existing.get("metadata") or {}).get("ownerReferences") or []
            if not any(o.get("uid") == uid for o in owners):
                raise PermanentError(
                    f"spec.operatorSpec: {'Secret' if secret else 'ConfigMap'} {ctx.namespace}/{name} exists "
                    "and is not owned by this resource; choose another name",
                    reason="ExportConflict",
                )
        payload: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret" if secret else "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": ctx.namespace,
                "ownerReferences": [
                    {
                        "apiVersion": ctx.body.get("apiVersion"),
                        "kind": ctx.kind.kind,
                        "name": ctx.name,
                        "uid": uid,
                        "controller": True,
                    }
                ],
            },
        }
        if secret:
            payload["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        else:
            payload["data"] = dict(data)
        current = (existing or {}).get("data") or {}
        if existing is not None and all(current.get(k) == v for k, v in payload["data"].items()):
            return
        await self.kube.apply_object(path, name, payload)

    # -- delete ---------------------------------------------------------------------------------

    async def delete(self, ctx: ObjectContext) -> None:
        """Delete in Azure what the object manages, unless the policy or a cascading owner delete makes
        it moot. The id comes from the object's resource-id annotation, written before the first PUT,
        so a delete at any moment (even during a create) deletes what may exist."""
        policy = await self._delete_policy(ctx)
        arm_id = ctx.annotations.get(RESOURCE_ID_ANNOTATION)
        if policy != "manage" or not arm_id:
            ctx.log.info("not deleting in Azure: policy %s, resource id %s", policy, arm_id or "never set")
            return
        _check_recorded_id(ctx, arm_id)
        older = [c for c in ctx.other_claimants(arm_id) if c < ctx.me]
        if older:
            ctx.log.info("not deleting %s in Azure: it is managed by %s", arm_id, older[0])
            return
        if await self._owner_is_being_deleted(ctx):
            ctx.log.info("owner is being deleted; Azure deletes %s with it", arm_id)
            return
        spec = await self._credential(ctx)
        ctx.arm = self._client(spec)
        ctx.arm_id = arm_id
        ctx.api_version = ctx.kind.version(original_version(ctx.kind, ctx.body))
        await self._extension(ctx, "delete", lambda: self._delete_in_azure(ctx))

    async def _delete_policy(self, ctx: ObjectContext) -> str:
        """The policy for a delete; an invalid one keeps the object (and its finalizer) until fixed.

        Guessing either way could be wrong: ``manage`` would delete what the user may have meant to
        keep, ``detach-on-delete``/``skip`` would leave behind what they may have meant to delete.
        """
        try:
            return await self.policy(ctx)
        except PermanentError as exc:
            raise RetryableError(
                f"{exc.message}; the object is kept until the policy is fixed (manage deletes the Azure "
                "resource, detach-on-delete and skip leave it in Azure)",
                reason="InvalidPolicy",
                severity="Error",
                delay=30,
            ) from exc

    async def _delete_in_azure(self, ctx: ObjectContext) -> None:
        assert ctx.arm is not None
        assert ctx.arm_id is not None
        assert ctx.api_version is not None
        try:
            operation = self._operation_record(ctx)
        except PermanentError as exc:  # a record we cannot trust is dropped; the delete goes on
            ctx.log.warning("%s; deleting %s", exc.message, ctx.arm_id)
            operation = None
        if operation is None or operation.method != "DELETE":
            # A PUT still running is superseded where ARM allows it; where it answers 409 (another
            # operation in progress) the delete is retried until the PUT has ended.
            try:
                _, operation = await start(ctx.arm, "DELETE", ctx.arm_id, ctx.api_version.arm_api_version)
            except ArmError as exc:
                if exc.status == 404:
                    ctx.annotate(OPERATION_ANNOTATION, None)
                    return
                raise self._classified(ctx, exc) from exc
            if operation is None:
                ctx.annotate(OPERATION_ANNOTATION, None)
                return
            await self._persist_operation(ctx, operation)
        await self._follow(ctx, operation)

    async def _owner_is_being_deleted(self, ctx: ObjectContext) -> bool:
        if ctx.kind.owner is Scope.SUBSCRIPTION:
            return False
        owner = ctx.spec.get("owner") or {}
        owner_kind = ctx.kind.owner_kind
        decl = (
            self.registry.kind(owner_kind.group, owner_kind.kind)
            if owner_kind
            else self.registry.kind(str(owner.get("group")), str(owner.get("kind")))
        )
        if decl is None or not owner.get("name"):
            return False
        obj = await self.kube.get(
            resource_path(decl.group, decl.storage_version, decl.plural, ctx.namespace, str(owner["name"]))
        )
        if obj is None or not (obj.get("metadata") or {}).get("deletionTimestamp"):
            return False
        owner_ctx = ObjectContext(kind=decl, body=obj, patch={}, log=ctx.log)
        return await self.policy(owner_ctx) == "manage"

    # -- helpers --------------------------------------------------------------------------------

    async def _arm(self, ctx: ObjectContext, call: Awaitable[T]) -> T:
        try:
            return await call
        except ArmError as exc:
            raise self._classified(ctx, exc) from exc

    def _classified(self, ctx: ObjectContext, exc: ArmError) -> AsoError:
        info = ArmErrorInfo(
            status=exc.status, code=exc.code, message=exc.message, retry_after=exc.retry_after
        )
        hook = ctx.kind.extensions.classify_error if ctx.kind.extensions else None
        result = hook(info, lambda: classify(info)) if hook else classify(info)
        message = f"{exc.code}: {exc.message}" if exc.message else exc.code
        if result.retry:
            return RetryableError(message, reason=result.reason, delay=result.delay, severity=result.severity)
        return PermanentError(message, reason=result.reason)

    async def _extension(self, ctx: ObjectContext, name: str, default: Callable[[], Awaitable[T]]) -> T:
        hook = getattr(ctx.kind.extensions, name, None) if ctx.kind.extensions else None
        if hook is None:
            return await default()
        result: T = await hook(_ExtensionView(ctx), default)
        return result


async def _value(value: T) -> T:
    return value


def _shown(value: str, limit: int = 100) -> str:
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} characters)"


def _check_name(ctx: ObjectContext) -> None:
    """Refuse a name that breaks the kind's ARM naming rule, before any request is made."""
    if ctx.kind.azure_name is not None:
        return  # a singleton: the kind fixes the name
    rule = ctx.kind.name_rule or GENERAL_NAME_RULE
    name = ctx.azure_name
    problem = rule.problem(name)
    if problem is None:
        return
    field = "spec.azureName" if ctx.spec.get("azureName") else "metadata.name (spec.azureName is not set)"
    raise PermanentError(
        f"{field}: {_shown(name)} is not a valid {ctx.kind.arm_type} name: {problem}; "
        f"allowed: {rule.explain()}",
        reason="InvalidResourceName",
    )


def _expected_parent_type(kind: ResourceKind) -> str | None:
    """The ARM type the parent id must have; None when any resource may be the parent (extensions)."""
    if isinstance(kind.owner, OwnerKind):
        return parent_type(kind.arm_type)
    if kind.owner is Scope.RESOURCE_GROUP:
        return "Microsoft.Resources/resourceGroups"
    return None


def _checked_parent(kind: ResourceKind, parent_id: str, where: str) -> str:
    problem = id_problem(parent_id, _expected_parent_type(kind))
    if problem is not None:
        raise PermanentError(f"{where}: {problem}", reason="InvalidOwner")
    return parent_id


def _build_id(ctx: ObjectContext, parent_id: str | None, subscription_id: str) -> str:
    """The ARM id of the object's resource, checked to be exactly one resource of the kind's type."""
    kind = ctx.kind
    if kind.owner is Scope.SUBSCRIPTION:
        base = f"/subscriptions/{subscription_id}"
        if kind.arm_type.lower() == "microsoft.resources/resourcegroups":
            arm_id = f"{base}/resourceGroups/{ctx.azure_name}"
        else:
            arm_id = child_id(base, kind.arm_type, ctx.azure_name)
    else:
        assert parent_id is not None
        arm_id = child_id(parent_id, kind.arm_type, ctx.azure_name, extension=kind.owner is Scope.EXTENSION)
    problem = id_problem(arm_id, kind.arm_type)
    if problem is not None:
        raise PermanentError(
            f"spec.owner/spec.azureName: the ARM id built from them is refused: {problem}",
            reason="InvalidResourceId",
        )
    return arm_id


def _check_recorded_id(ctx: ObjectContext, arm_id: str) -> None:
    """Before a delete: the recorded id must name a resource of the kind's type with the object's name."""
    problem = id_problem(arm_id, ctx.kind.arm_type)
    if problem is None and arm_id.rstrip("/").rsplit("/", 1)[-1].lower() != ctx.azure_name.lower():
        problem = f"{arm_id!r} does not end in the object's Azure name {ctx.azure_name!r}"
    if problem is not None:
        raise RetryableError(
            f"metadata.annotations[{RESOURCE_ID_ANNOTATION!r}]: {problem}; nothing is deleted in Azure, "
            "and the object is kept until the annotation is fixed or the reconcile-policy is "
            "detach-on-delete",
            reason="InvalidResourceId",
            severity="Error",
            delay=60,
        )


def _dig(source: Any, path: str) -> Any:
    node = source
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


class _ExtensionView:
    """What an extension sees (:class:`aso.ReconcileContext`)."""

    def __init__(self, ctx: ObjectContext) -> None:
        assert ctx.arm is not None
        assert ctx.api_version is not None
        assert ctx.arm_id is not None
        self.kind = ctx.kind
        self.api_version = ctx.api_version
        self.namespace = ctx.namespace
        self.name = ctx.name
        self.body = ctx.body
        self.arm_id = ctx.arm_id
        self.arm = ctx.arm
        self.log = ctx.log


def _transport(settings: Settings) -> Any:
    """One aiohttp session with one TLS context for every ARM request.

    Given ``connection_verify``, azure-core builds a new SSL context per request, and aiohttp's
    pool keys connections on it: no connection would ever be reused (a TLS handshake per request,
    and idle sockets piling up). One context on the connector keeps the pool working.
    """
    import ssl

    import aiohttp
    from azure.core.pipeline.transport import AioHttpTransport

    context = ssl.create_default_context(cafile=settings.ca_bundle)
    connector = aiohttp.TCPConnector(ssl=context, limit=100)
    session = aiohttp.ClientSession(connector=connector, trust_env=False)
    return AioHttpTransport(session=session, session_owner=True)


class _SharedTransport(AsyncHttpTransport):
    """Lets several pipelines share one aiohttp transport without any of them closing it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def __aenter__(self) -> _SharedTransport:
        await self._inner.open()
        return self

    async def __aexit__(self, *args: Any) -> None:
        return None

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        return None

    async def send(self, request: Any, **kwargs: Any) -> Any:
        return await self._inner.send(request, **kwargs)

    async def sleep(self, duration: float) -> None:
        await asyncio.sleep(duration)
