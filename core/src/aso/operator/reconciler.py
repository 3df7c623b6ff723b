"""The generic reconciler: one implementation for every kind, customised only through extensions.

It never imports kopf: the kopf layer (:mod:`aso.operator.app`) hands it an :class:`ObjectContext`
and turns the errors it raises into retries, conditions and events. It never sleeps either: a
long-running operation is started, recorded on the object and left; each later call polls it once
and returns (``Reconciling``, severity Info) until ARM says it has ended.

The way of an object, :meth:`Reconciler.reconcile`:

1. resolve where its resource is (:meth:`Reconciler.resolve`): name, policy, owner, credential, ARM
   id, the claim on that id; no ARM request is made for an object that fails any of these;
2. record the ARM id on the object before anything is written to Azure (written at once, not
   with the handler's patch);
3. follow the running operation, if there is one;
4. build the body (extensions ``pre_reconcile``, then ``arm_body``), GET, compare, and PUT only
   when something differs; a PUT that does not finish at once is recorded and left;
5. finish: status from ARM, exports, ``Ready``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aso.errors import ArmError, AsoError, PermanentError, RetryableError
from aso.extensions import ArmErrorInfo, Classification
from aso.host import Registry
from aso.kinds import ResourceKind
from aso.operator import mapping
from aso.operator.arm import AUTHENTICATION_FAILED, ArmClient, ArmClients
from aso.operator.armid import build_id, check_name, check_recorded_id, subscription_of
from aso.operator.claims import POLICY_ANNOTATION, RESOURCE_ID_ANNOTATION
from aso.operator.context import ObjectContext, Target
from aso.operator.credentials import CredentialSpec, build_credential
from aso.operator.exports import export
from aso.operator.extension_runner import run_extension
from aso.operator.kubeapi import KubeApiError, KubeClient, NotFound
from aso.operator.lookups import Lookups
from aso.operator.operations import (
    OPERATION_ANNOTATION,
    TERMINAL_FAILED,
    Operation,
    OperationRejected,
    check_in,
    first_poll,
    start,
    waiting,
)
from aso.operator.settings import Settings
from aso.schemas import object_schema

__all__ = [
    "FINALIZER",
    "ORIGIN_ANNOTATION",
    "POLICY_ANNOTATION",
    "RESOURCE_ID_ANNOTATION",
    "SECRETS_ANNOTATION",
    "Reconciler",
    "classify",
    "holds_finalizer",
]

FINALIZER = "serviceoperator.azure.com/finalizer"
#: ``created`` when aso created the Azure resource, ``adopted`` when it existed before.
ORIGIN_ANNOTATION = "aso.dev/origin"
#: The Secrets (``name=resourceVersion``) whose values the last accepted PUT carried. Write-only
#: values (passwords) are never returned by a GET, so a new value is noticed by its Secret's new
#: resourceVersion and sent at the next sync, as ASO v2 re-sends on a change of the Secret.
SECRETS_ANNOTATION = "aso.dev/secrets"

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


def holds_finalizer(metadata: Mapping[str, Any]) -> bool:
    """Whether the object holds the operator's finalizer (added before its first write to Azure)."""
    return FINALIZER in (metadata.get("finalizers") or [])


async def _flush(ctx: ObjectContext) -> None:
    """The ARM id and the finalizer, written before anything is written to Azure."""
    try:
        await ctx.flush(finalizer=FINALIZER)
    except NotFound as exc:
        raise RetryableError(
            "the object was deleted before anything was written to Azure", reason="ObjectGone"
        ) from exc
    except KubeApiError as exc:
        if exc.status != 409:
            raise
        raise RetryableError(
            "the object changed while its finalizer was being added; trying again with it as it is now",
            reason="Conflict",
        ) from exc


class Reconciler:
    """Create/update, delete and drift sync for any registered kind."""

    def __init__(self, settings: Settings, registry: Registry, kube: KubeClient) -> None:
        self.settings = settings
        self.registry = registry
        self.kube = kube
        self.lookups = Lookups(kube, registry, settings)
        self.clients = ArmClients(settings)

    async def close(self) -> None:
        await self.clients.close()

    # -- the way of an object -------------------------------------------------------------------

    async def reconcile(self, ctx: ObjectContext) -> None:
        """Bring Azure to the spec (or, with policy skip, only read it)."""
        try:
            target = await self.resolve(ctx)
            if target.policy == "skip":
                await self._observe(ctx, target)
                return
            recorded = ctx.annotations.get(RESOURCE_ID_ANNOTATION) == target.arm_id
            if not recorded or not holds_finalizer(ctx.metadata):
                # Written now, before the first write to Azure, with the finalizer: a delete from
                # then on deletes what may exist. Before it, a delete leaves nothing behind (nothing
                # was written to Azure), so the finalizer costs no write and no watch event earlier.
                ctx.annotate(RESOURCE_ID_ANNOTATION, target.arm_id)
                await _flush(ctx)
            operation = self._recorded_operation(ctx, target, "PUT")
            if operation is not None:
                await self._follow(ctx, target, operation)
                return
            await self._put_if_different(ctx, target)
        except ArmError as exc:
            raise self.classified(ctx.kind, exc) from exc

    async def resolve(self, ctx: ObjectContext) -> Target:
        """Where the object's resource is; refuses (before any ARM request) what it may not touch."""
        check_name(ctx.kind, ctx.azure_name, ctx.azure_name_field)
        policy = await self.lookups.policy(ctx)
        parent_id, owner = await self.lookups.owner(ctx)
        spec = await self.lookups.credential(ctx)
        if parent_id is not None:
            _same_subscription(parent_id, spec)
        arm_id = build_id(ctx.kind, parent_id or f"/subscriptions/{spec.subscription_id}", ctx.azure_name)
        known = ctx.annotations.get(RESOURCE_ID_ANNOTATION)
        if known and known.lower() != arm_id.lower() and not await self._never_created(ctx, known, spec):
            raise PermanentError(
                f"spec.azureName/spec.owner: the resource is {known}; it cannot move to {arm_id} "
                "(azureName and owner are immutable; delete and recreate the object instead)",
                reason="ImmutableFieldChanged",
            )
        if policy != "skip":
            _claim(ctx, arm_id)
        if owner is not None:
            _own_by(ctx, owner)
        return Target(
            policy=policy,
            arm=self._client(spec),
            arm_id=arm_id,
            api_version=ctx.api_version,
            owner=owner,
        )

    async def _never_created(self, ctx: ObjectContext, known: str, spec: CredentialSpec) -> bool:
        """ASO's rule: azureName and owner may change until the resource has been created. True
        when the object never reached Azure at ``known``: no status id, no operation under way
        and nothing there (its PUT was refused, e.g. a storage name taken elsewhere)."""
        if ctx.status.get("id") or ctx.annotations.get(OPERATION_ANNOTATION):
            return False
        if await self._client(spec).get(known, ctx.api_version.arm_api_version) is not None:
            return False
        ctx.log.info("%s was never created in Azure; the object now names %s", known, ctx.azure_name)
        return True

    async def _put_if_different(self, ctx: ObjectContext, target: Target) -> None:
        await run_extension(ctx, target, "pre_reconcile", _nothing)
        schema = object_schema(ctx.kind, target.api_version.name)["properties"]["spec"]
        resolver = self.lookups.resolver(ctx.namespace)
        generic, write_only = await mapping.arm_body(schema, ctx.spec, resolver)

        async def default_body() -> dict[str, Any]:
            return generic

        body = await run_extension(ctx, target, "arm_body", default_body)
        api_version = target.api_version.arm_api_version
        current = await target.arm.get(target.arm_id, api_version)
        if current is not None:
            _check_location(body, current)
            drift = mapping.differences(body, current, frozenset(write_only) | frozenset(ctx.kind.write_only))
            if write_only and ctx.annotations.get(SECRETS_ANNOTATION) != resolver.secrets_fingerprint():
                drift.append(f"{', '.join(sorted(write_only))} (write-only: a referenced Secret changed)")
            state = str((current.get("properties") or {}).get("provisioningState") or "").lower()
            if state in TERMINAL_FAILED:
                drift.append(f"properties.provisioningState ({state}: the last operation failed)")
            if not ctx.annotations.get(ORIGIN_ANNOTATION):
                ctx.annotate(ORIGIN_ANNOTATION, "adopted")
            if not drift:
                await self._finish(ctx, target, current)
                return
            ctx.log.info("%s differs from the spec at %s; updating", target.arm_id, ", ".join(drift[:10]))
        else:
            ctx.annotate(ORIGIN_ANNOTATION, "created")
        verb = "Updating" if current is not None else "Creating"
        response, operation = await start(target.arm, "PUT", target.arm_id, api_version, body, verb=verb)
        # Accepted: the write-only values of these Secrets are on their way (undone if it fails).
        ctx.annotate(SECRETS_ANNOTATION, resolver.secrets_fingerprint() if write_only else None)
        if operation is not None:
            ctx.annotate(OPERATION_ANNOTATION, operation.to_annotation())
            raise waiting(operation, first_poll(response))
        result = response.body if isinstance(response.body, dict) and response.body.get("id") else None
        if result is None:
            result = await target.arm.get(target.arm_id, api_version) or {}
        await self._finish(ctx, target, result)

    async def _observe(self, ctx: ObjectContext, target: Target) -> None:
        """Policy skip: read the resource, never write it."""
        current = await target.arm.get(target.arm_id, target.api_version.arm_api_version)
        if current is None:
            raise RetryableError(
                f"{target.arm_id} does not exist in Azure (reconcile-policy skip never creates it)",
                reason="AzureResourceNotFound",
            )
        await self._finish(ctx, target, current)

    async def _follow(self, ctx: ObjectContext, target: Target, operation: Operation) -> None:
        """Poll the recorded operation once; finish when it has ended, else come back later."""
        try:
            await check_in(target.arm, operation)
        except PermanentError:
            ctx.annotate(OPERATION_ANNOTATION, None)
            if operation.method == "PUT":
                ctx.annotate(SECRETS_ANNOTATION, None)  # not known to have been applied
            raise
        except ArmError as exc:
            if exc.status == 200 or exc.code == "ProvisioningFailed":
                ctx.annotate(OPERATION_ANNOTATION, None)  # it is over; the next try starts anew
                if operation.method == "PUT":
                    ctx.annotate(SECRETS_ANNOTATION, None)  # not known to have been applied
            raise
        ctx.annotate(OPERATION_ANNOTATION, None)
        if operation.method == "DELETE":
            return
        result = await target.arm.get(operation.arm_id, operation.api_version)
        if result is None:
            raise RetryableError(
                f"{operation.arm_id} not found after its PUT finished", reason="ResourceNotFound"
            )
        await self._finish(ctx, target, result)

    async def _finish(self, ctx: ObjectContext, target: Target, resource: Mapping[str, Any]) -> None:
        # Status goes to the stored object: the hub's shape, whatever version the user wrote.
        status_schema = object_schema(ctx.kind, ctx.kind.storage_version)["properties"]["status"]
        status = mapping.status_from_arm(status_schema, resource)
        arm_id = str(resource.get("id") or target.arm_id)
        status["id"] = arm_id
        ctx.set_status(status)
        ctx.annotate(RESOURCE_ID_ANNOTATION, arm_id)
        await export(self.kube, ctx, target, resource)
        ctx.set_ready(ready=True, severity="", reason="Succeeded", message="")

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
        check_recorded_id(ctx.kind, arm_id, ctx.azure_name, RESOURCE_ID_ANNOTATION)
        older = [c for c in ctx.other_claimants(arm_id) if c < ctx.me]
        if older:
            ctx.log.info("not deleting %s in Azure: it is managed by %s", arm_id, older[0])
            return
        if await self.lookups.owner_deletes_with_it(ctx):
            ctx.log.info("owner is being deleted; Azure deletes %s with it", arm_id)
            return
        target = Target(
            policy=policy,
            arm=self._client(await self.lookups.credential(ctx)),
            arm_id=arm_id,
            api_version=ctx.api_version,
        )
        try:
            await run_extension(ctx, target, "delete", lambda: self._delete_in_azure(ctx, target))
        except ArmError as exc:
            raise self.classified(ctx.kind, exc) from exc

    async def _delete_policy(self, ctx: ObjectContext) -> str:
        """The policy for a delete; an invalid one keeps the object (and its finalizer) until fixed.

        Guessing either way could be wrong: ``manage`` would delete what the user may have meant to
        keep, ``detach-on-delete``/``skip`` would leave behind what they may have meant to delete.
        """
        try:
            return await self.lookups.policy(ctx)
        except PermanentError as exc:
            raise RetryableError(
                f"{exc.message}; the object is kept until the policy is fixed (manage deletes the Azure "
                "resource, detach-on-delete and skip leave it in Azure)",
                reason="InvalidPolicy",
                severity="Error",
                delay=30,
            ) from exc

    async def _delete_in_azure(self, ctx: ObjectContext, target: Target) -> None:
        try:
            operation = self._recorded_operation(ctx, target, "DELETE")
        except PermanentError as exc:  # a record we cannot trust is dropped; the delete goes on
            ctx.log.warning("%s; deleting %s", exc.message, target.arm_id)
            operation = None
        if operation is None:
            # A PUT still running is superseded where ARM allows it; where it answers 409 (another
            # operation in progress) the delete is retried until the PUT has ended.
            try:
                api_version = target.api_version.arm_api_version
                response, operation = await start(
                    target.arm, "DELETE", target.arm_id, api_version, verb="Deleting"
                )
            except ArmError as exc:
                if exc.status != 404:
                    raise
                operation = None
            if operation is None:
                ctx.annotate(OPERATION_ANNOTATION, None)
                return
            ctx.annotate(OPERATION_ANNOTATION, operation.to_annotation())
            raise waiting(operation, first_poll(response))
        await self._follow(ctx, target, operation)

    # -- helpers --------------------------------------------------------------------------------

    def _recorded_operation(self, ctx: ObjectContext, target: Target, method: str) -> Operation | None:
        """The operation recorded on the object, when it is a ``method`` of the object's resource.

        A record that does not parse, points off the ARM endpoint or is about another resource is
        dropped with ``OperationRejected``; a record of the other method is dropped silently (a
        delete supersedes a create).
        """
        raw = ctx.annotations.get(OPERATION_ANNOTATION)
        if not raw:
            return None
        try:
            operation = Operation.from_annotation(raw, self.settings)
        except OperationRejected as exc:
            ctx.annotate(OPERATION_ANNOTATION, None)
            raise PermanentError(f"{exc}; record dropped", reason="OperationRejected") from exc
        if operation.arm_id.lower() != target.arm_id.lower():
            ctx.annotate(OPERATION_ANNOTATION, None)
            raise PermanentError(
                f"metadata.annotations[{OPERATION_ANNOTATION!r}]: records {operation.method} of "
                f"{operation.arm_id}, not of {target.arm_id}; record dropped",
                reason="OperationRejected",
            )
        if operation.method != method:
            ctx.annotate(OPERATION_ANNOTATION, None)
            return None
        return operation

    def _client(self, spec: CredentialSpec) -> ArmClient:
        return self.clients.get(
            spec.cache_key, lambda: build_credential(spec, self.settings), spec.subscription_id
        )

    def classified(self, kind: ResourceKind, exc: ArmError) -> AsoError:
        """An ARM error as a retry or a condition: the kind's ``classify_error`` first."""
        info = ArmErrorInfo(
            status=exc.status, code=exc.code, message=exc.message, retry_after=exc.retry_after
        )
        hook = kind.extensions.classify_error if kind.extensions else None
        result = hook(info, lambda: classify(info)) if hook else classify(info)
        message = f"{exc.code}: {exc.message}" if exc.message else exc.code
        if result.retry:
            return RetryableError(message, reason=result.reason, delay=result.delay, severity=result.severity)
        return PermanentError(message, reason=result.reason)


async def _nothing() -> None:
    return None


def _same_subscription(parent_id: str, spec: CredentialSpec) -> None:
    parent_sub = subscription_of(parent_id)
    if parent_sub and parent_sub.lower() != spec.subscription_id.lower():
        raise RetryableError(
            f"the owner is in subscription {parent_sub} but the credential ({spec.source}) is for "
            f"subscription {spec.subscription_id}",
            reason="SubscriptionMismatch",
            severity="Error",
            delay=300,
        )


def _claim(ctx: ObjectContext, arm_id: str) -> None:
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


def _own_by(ctx: ObjectContext, owner: Mapping[str, Any]) -> None:
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


def _check_location(body: Mapping[str, Any], current: Mapping[str, Any]) -> None:
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
