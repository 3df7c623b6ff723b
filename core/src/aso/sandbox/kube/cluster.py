"""API semantics independent of HTTP: create, read, update, patch, delete, watch, CRDs, namespaces.

One :class:`Cluster` owns the :class:`~.store.Store`, the registered kinds and the conversion
client. Every write goes through the same admission steps the real server takes, in its order:
decode and prune unknown fields (``fieldValidation``), default, keep what the client may not
change (status vs. main resource, server-owned metadata), validate, convert to the storage
version, store. Objects are stored in the storage version and converted on the way out.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import secrets
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

from aso.common import merge_patch, utc_now

from . import apply, builtin, errors, schema
from .conversion import WebhookConverter
from .errors import ApiError, Cause
from .metadata import validate_metadata
from .model import ResourceType, TypeKey, Version, from_crd
from .patch import PatchError, json_patch, strategic_merge_patch
from .store import Event, Store, Subscription

Json = dict[str, Any]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")


class WriteRetry(Exception):
    """The object changed while a write awaited a conversion; the caller re-reads it and starts over."""


@dataclass(kw_only=True)
class WriteOptions:
    """Per-request options: ``fieldValidation``, ``dryRun``; collects ``Warning`` headers."""

    field_validation: str = "Warn"
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    #: ``fieldManager`` (required by apply patches).
    field_manager: str = ""
    #: Who writes without a ``fieldManager``: the User-Agent up to its first ``/``, as the API server says.
    user_agent: str = ""
    #: ``force`` of an apply patch: take conflicting fields from their managers.
    force: bool = False
    #: Set by an apply patch that created the object (answered 201, as a create is).
    created: bool = False


def _meta(obj: Json) -> Json:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    return meta


def _without(obj: Json, *keys: str) -> Json:
    return {k: v for k, v in obj.items() if k not in keys}


class Cluster:
    def __init__(self, store: Store, converter: WebhookConverter) -> None:
        self.store = store
        self.converter = converter
        self.types: dict[TypeKey, ResourceType] = {}
        # Bumped whenever the set of kinds changes: discovery and OpenAPI are cached on it.
        self.types_generation = 0
        # Hook the garbage collector and namespace controller attach to (see controllers.py).
        self.on_change: list[Any] = []
        for rt in builtin.BUILTIN_TYPES:
            self.types[rt.key] = rt

    # -- kinds -----------------------------------------------------------------------------

    def bootstrap(self) -> None:
        """Register the CRDs already in storage and create the default namespaces."""
        for crd in self.store.iter(builtin.CRDS.key):
            try:
                self._register(from_crd(crd))
            except ApiError:
                continue
        for name in builtin.DEFAULT_NAMESPACES:
            if self.store.get(builtin.NAMESPACES.key, "", name) is None:
                self.store.save(builtin.NAMESPACES.key, self._new_namespace(name))

    def _new_namespace(self, name: str) -> Json:
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": utc_now(),
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }

    def _register(self, rt: ResourceType) -> None:
        self.types[rt.key] = rt
        self.types_generation += 1

    def _unregister(self, key: TypeKey) -> None:
        if key in self.types and not self.types[key].builtin:
            del self.types[key]
            self.types_generation += 1
            self.store.drop_kind(key)

    def resolve(self, group: str, version: str, plural: str) -> tuple[ResourceType, Version]:
        rt = self.types.get((group, plural))
        served = rt.version(version) if rt else None
        if rt is None or served is None:
            raise ApiError(
                code=404, reason="NotFound", message="the server could not find the requested resource"
            )
        return rt, served

    def groups(self) -> dict[str, list[ResourceType]]:
        result: dict[str, list[ResourceType]] = {}
        for rt in self.types.values():
            result.setdefault(rt.group, []).append(rt)
        return result

    # -- reading ---------------------------------------------------------------------------

    def _get_stored(self, rt: ResourceType, ns: str, name: str) -> Json:
        obj = self.store.get(rt.key, ns if rt.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rt.group, rt.plural, name)
        return obj

    async def output(self, rt: ResourceType, objects: list[Json], version: str) -> list[Json]:
        return await self.converter.convert(rt, objects, version)

    async def get(self, rt: ResourceType, version: str, ns: str, name: str) -> Json:
        (obj,) = await self.output(rt, [self._get_stored(rt, ns, name)], version)
        return obj

    # -- creating --------------------------------------------------------------------------

    def _check_body(self, rt: ResourceType, version: str, body: Any) -> Json:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        expected = rt.api_version(version)
        if body.get("apiVersion", expected) != expected or body.get("kind", rt.kind) != rt.kind:
            raise errors.bad_request(
                f"the API version in the data ({body.get('apiVersion')}) does not match the expected "
                f"API version "
                f"({expected})"
                if body.get("apiVersion", expected) != expected
                else f"the kind in the data ({body.get('kind')}) does not match the expected kind ({rt.kind})"
            )
        body["apiVersion"], body["kind"] = expected, rt.kind
        _meta(body) if "metadata" in body else body.setdefault("metadata", {})
        return body

    def _check_named_body(self, rt: ResourceType, version: str, ns: str, name: str, body: Any) -> Json:
        """The body of a write to the object ``name`` (an update or an apply): its name, when set,
        is the one on the URL."""
        obj = self._check_body(rt, version, body)
        meta = obj["metadata"]
        if meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        meta["name"] = name
        self._check_namespace(rt, ns, meta)
        return obj

    def _check_namespace(self, rt: ResourceType, ns: str, meta: Json) -> None:
        if not rt.namespaced:
            meta.pop("namespace", None)
            return
        if meta.get("namespace") and meta["namespace"] != ns:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = ns

    def _namespace_open(self, rt: ResourceType, ns: str) -> None:
        if not rt.namespaced:
            return
        namespace = self.store.get(builtin.NAMESPACES.key, "", ns)
        if namespace is None:
            raise errors.not_found("", "namespaces", ns)
        if namespace["metadata"].get("deletionTimestamp"):
            raise errors.forbidden_request(
                f"{rt.resource_name} is forbidden: unable to create new content in namespace {ns} "
                "because it is being terminated",
                kind=rt.plural,
                causes=[
                    {
                        "reason": "NamespaceTerminating",
                        "message": f"namespace {ns} is being terminated",
                        "field": "metadata.namespace",
                    }
                ],
            )

    def _decode(self, rt: ResourceType, version: Version, obj: Json, opts: WriteOptions) -> None:
        """Prune unknown fields (400 under Strict, warnings under Warn) and apply defaults."""
        unknown = schema.prune(obj, version.schema)
        if unknown and opts.field_validation == "Strict":
            listed = ", ".join(f'unknown field "{path}"' for path in unknown)
            raise errors.bad_request(
                f'{rt.kind} in version "{version.name}" cannot be handled as a {rt.kind}: '
                f"strict decoding error: {listed}"
            )
        if unknown and opts.field_validation == "Warn":
            opts.warnings.extend(f'unknown field "{path}"' for path in unknown)
        schema.apply_defaults(obj, version.schema)

    def _validate(self, rt: ResourceType, version: Version, obj: Json) -> None:
        causes = validate_metadata(rt, obj["metadata"]) + schema.validate(obj, version.schema)
        causes += self._validate_kind(rt, obj)
        if causes:
            raise errors.invalid_object(rt.kind, rt.group, obj["metadata"].get("name", ""), causes)

    def _validate_kind(self, rt: ResourceType, obj: Json) -> list[Cause]:
        causes: list[Cause] = []
        if rt.key == builtin.SECRETS.key:
            for key, value in (obj.get("data") or {}).items():
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    causes.append(
                        errors.invalid(f"data[{key}]", "<secret contents redacted>", "illegal base64 data")
                    )
        return causes

    def _prepare_kind(self, rt: ResourceType, obj: Json, old: Json | None) -> None:
        """Kind-specific normalisation before validation (what the real strategies do)."""
        if rt.key == builtin.SECRETS.key:
            if not obj.get("type"):
                obj["type"] = "Opaque"
            string_data = obj.pop("stringData", None) or {}
            if string_data:
                data = dict(obj.get("data") or {})
                for key, value in string_data.items():
                    data[key] = base64.b64encode(str(value).encode()).decode()
                obj["data"] = data
        elif rt.key == builtin.NAMESPACES.key:
            name = obj["metadata"]["name"]
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            if old is None:
                obj["spec"] = {"finalizers": ["kubernetes"]}
                obj["status"] = {"phase": "Active"}
            else:
                obj["spec"] = old.get("spec", {})
        elif rt.key == builtin.CRDS.key:
            new_rt = from_crd(obj)
            self._check_crd_names(new_rt, obj["metadata"]["name"])
            stored = set((old or {}).get("status", {}).get("storedVersions") or [])
            stored.add(new_rt.storage_version)
            names = obj["spec"]["names"]
            accepted = {
                "plural": new_rt.plural,
                "singular": new_rt.singular,
                "kind": new_rt.kind,
                "listKind": new_rt.list_kind,
                **({"shortNames": list(names["shortNames"])} if names.get("shortNames") else {}),
                **({"categories": list(names["categories"])} if names.get("categories") else {}),
            }
            # Conditions keep their transition time across updates: they never change here.
            previous = {c.get("type"): c for c in ((old or {}).get("status") or {}).get("conditions") or []}
            stamp = previous.get("Established", {}).get("lastTransitionTime") or utc_now()
            obj["status"] = {
                "conditions": [
                    {
                        "type": "NamesAccepted",
                        "status": "True",
                        "reason": "NoConflicts",
                        "message": "no conflicts found",
                        "lastTransitionTime": stamp,
                    },
                    {
                        "type": "Established",
                        "status": "True",
                        "reason": "InitialNamesAccepted",
                        "message": "the initial names have been accepted",
                        "lastTransitionTime": stamp,
                    },
                ],
                "acceptedNames": accepted,
                "storedVersions": sorted(stored),
            }

    def _check_crd_names(self, rt: ResourceType, crd_name: str) -> None:
        for other in self.types.values():
            if other.group != rt.group or other.key == rt.key:
                continue
            if (
                other.kind == rt.kind
                or rt.plural in other.short_names
                or set(rt.short_names) & {other.plural, *other.short_names}
            ):
                raise errors.invalid_object(
                    "CustomResourceDefinition",
                    "apiextensions.k8s.io",
                    crd_name,
                    [errors.invalid("spec.names", rt.kind, f"names conflict with {other.resource_name}")],
                )

    async def create(
        self,
        rt: ResourceType,
        version: Version,
        ns: str,
        body: Any,
        opts: WriteOptions,
        *,
        applied: bool = False,
    ) -> Json:
        obj = self._check_body(rt, version.name, body)
        meta = obj["metadata"]
        self._check_namespace(rt, ns, meta)
        if meta.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        if not meta.get("name"):
            if meta.get("generateName"):
                suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
                meta["name"] = meta["generateName"] + suffix
            else:
                raise errors.invalid_object(
                    rt.kind,
                    rt.group,
                    "",
                    [
                        Cause(
                            reason="FieldValueRequired",
                            field="metadata.name",
                            message="Required value: name or generateName is required",
                        )
                    ],
                )
        self._namespace_open(rt, ns)
        self._decode(rt, version, obj, opts)
        if version.status_subresource and rt.key != builtin.NAMESPACES.key:
            obj.pop("status", None)
        for key in _SERVER_META:
            meta.pop(key, None)
        meta.pop("selfLink", None)
        self._prepare_kind(rt, obj, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = utc_now()
        if rt.has_generation:
            meta["generation"] = 1
        if not applied:
            base = apply.requested_managed(meta.pop("managedFields", apply.MISSING), [])
            managed = self._track(rt, version, None, obj, base, opts, None)
            if managed is None:
                managed = base
            if managed:
                meta["managedFields"] = managed
        self._validate(rt, version, obj)
        if self.store.get(rt.key, meta.get("namespace", ""), meta["name"]) is not None:
            raise errors.already_exists(rt.group, rt.plural, meta["name"])
        (stored,) = await self.converter.convert(rt, [obj], rt.storage_version)
        if opts.dry_run:
            return obj
        if self.store.get(rt.key, meta.get("namespace", ""), meta["name"]) is not None:
            raise errors.already_exists(rt.group, rt.plural, meta["name"])
        self._commit(rt, stored)
        return await self._answer(rt, stored, version.name)

    def _track(
        self,
        rt: ResourceType,
        version: Version,
        old: Json | None,
        new: Json,
        managed: list[Json],
        opts: WriteOptions,
        subresource: str | None,
    ) -> list[Json] | None:
        """``managedFields`` after this write as an ``Update`` by ``opts.field_manager``."""
        return apply.track_update(
            old,
            new,
            version.schema,
            managed=managed,
            manager=opts.field_manager or opts.user_agent or "unknown",
            api_version=rt.api_version(version.name),
            subresource=subresource,
            status_split=version.status_subresource,
            stamp=utc_now(),
        )

    async def _answer(self, rt: ResourceType, stored: Json, version: str) -> Json:
        """The stored object in the request version (through the webhook when the CRD converts)."""
        if stored.get("apiVersion") == rt.api_version(version):
            return stored
        if rt.conversion.strategy != "Webhook":
            return {**stored, "apiVersion": rt.api_version(version)}
        (out,) = await self.converter.convert(rt, [stored], version)
        return out

    def _commit(self, rt: ResourceType, obj: Json) -> Event:
        if rt.key == builtin.CRDS.key:
            self._register(from_crd(obj))
        event = self.store.save(rt.key, obj)
        for hook in self.on_change:
            hook(rt, event)
        return event

    def _remove(self, rt: ResourceType, ns: str, name: str) -> Event | None:
        event = self.store.remove(rt.key, ns, name)
        if event is None:
            return None
        if rt.key == builtin.CRDS.key:
            spec = event.old["spec"] if event.old else {}
            self._unregister((spec.get("group", ""), spec.get("names", {}).get("plural", "")))
        for hook in self.on_change:
            hook(rt, event)
        return event

    # -- updating --------------------------------------------------------------------------

    async def update(
        self,
        rt: ResourceType,
        version: Version,
        ns: str,
        name: str,
        body: Any,
        opts: WriteOptions,
        subresource: str | None,
    ) -> Json:
        obj = self._check_named_body(rt, version.name, ns, name, body)
        meta = obj["metadata"]
        current = self.store.get(rt.key, ns if rt.namespaced else "", name)
        if current is None:
            if rt.key == builtin.EVENTS.key and subresource is None:
                meta.pop("resourceVersion", None)
                return await self.create(rt, version, ns, obj, opts)
            raise errors.not_found(rt.group, rt.plural, name)
        wanted_rv = meta.get("resourceVersion")
        if not wanted_rv and not rt.builtin:
            raise errors.invalid_object(
                rt.kind,
                rt.group,
                name,
                [errors.invalid("metadata.resourceVersion", 0, "must be specified for an update")],
            )
        if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
            raise errors.stale(rt.group, rt.plural, name)
        (current_v,) = await self.converter.convert(rt, [current], version.name)
        try:
            return await self.write_update(rt, version, current, current_v, obj, opts, subresource)
        except WriteRetry:
            raise errors.stale(rt.group, rt.plural, name) from None

    async def patch(
        self,
        rt: ResourceType,
        version: Version,
        ns: str,
        name: str,
        content_type: str,
        patch_body: Any,
        opts: WriteOptions,
        subresource: str | None,
    ) -> Json:
        if content_type == STRATEGIC_PATCH and not rt.builtin:
            raise errors.unsupported_media_type(content_type, [JSON_PATCH, MERGE_PATCH, APPLY_PATCH])
        if content_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH):
            accepted = [JSON_PATCH, MERGE_PATCH] + ([STRATEGIC_PATCH] if rt.builtin else []) + [APPLY_PATCH]
            raise errors.unsupported_media_type(content_type, accepted)
        if opts.force and content_type != APPLY_PATCH:
            raise errors.invalid_object(
                "PatchOptions",
                "meta.k8s.io",
                "",
                [errors.forbidden("force", "may not be specified for non-apply patch")],
            )
        if content_type == APPLY_PATCH:
            return await self._apply(rt, version, ns, name, patch_body, opts, subresource)
        for _attempt in range(10):
            current = self._get_stored(rt, ns, name)
            (current_v,) = await self.converter.convert(rt, [current], version.name)
            try:
                if content_type == JSON_PATCH:
                    patched = json_patch(current_v, patch_body)
                elif content_type == MERGE_PATCH:
                    if not isinstance(patch_body, dict):
                        raise errors.bad_request("merge patch must be a JSON object")
                    patched = merge_patch(current_v, patch_body)
                else:
                    if not isinstance(patch_body, dict):
                        raise errors.bad_request("strategic merge patch must be a JSON object")
                    patched = strategic_merge_patch(current_v, patch_body, dict(rt.merge_keys))
            except PatchError as exc:
                raise errors.unprocessable(str(exc)) from exc
            if not isinstance(patched, dict):
                raise errors.unprocessable("the patched object is not a JSON object")
            meta = patched.get("metadata")
            if not isinstance(meta, dict):
                raise errors.unprocessable("metadata must be an object")
            if meta.get("resourceVersion") != current["metadata"]["resourceVersion"]:
                raise errors.stale(rt.group, rt.plural, name)
            if meta.get("name") != name:
                raise errors.bad_request(
                    f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
                )
            try:
                return await self.write_update(rt, version, current, current_v, patched, opts, subresource)
            except WriteRetry:
                continue
        raise errors.stale(rt.group, rt.plural, name)

    async def write_update(
        self,
        rt: ResourceType,
        version: Version,
        current: Json,
        current_v: Json,
        new: Json,
        opts: WriteOptions,
        subresource: str | None,
        *,
        applied: bool = False,
    ) -> Json:
        """Admit and store ``new`` over ``current`` (an update, a patch, an apply, or a subresource
        served elsewhere such as scale); :class:`WriteRetry` when ``current`` changed meanwhile."""
        new["apiVersion"], new["kind"] = rt.api_version(version.name), rt.kind
        self._decode(rt, version, new, opts)
        old_meta = current_v["metadata"]
        if subresource == "status":
            status = new.get("status")
            managed = _meta(new).get("managedFields")
            new = _without(current_v, "status")
            if status is not None:
                new["status"] = status
            new["metadata"] = dict(old_meta)
            if applied:
                new["metadata"]["managedFields"] = managed
        else:
            if version.status_subresource:
                new = _without(new, "status")
                if "status" in current_v:
                    new["status"] = current_v["status"]
            meta = new["metadata"] = dict(_meta(new))
            for key in (*_SERVER_META, "namespace", "name", "resourceVersion"):
                if key in old_meta:
                    meta[key] = old_meta[key]
                else:
                    meta.pop(key, None)
            meta.pop("selfLink", None)
            if old_meta.get("deletionTimestamp"):
                added = [
                    f for f in meta.get("finalizers") or [] if f not in (old_meta.get("finalizers") or [])
                ]
                if added:
                    listed = ", ".join(json.dumps(f) for f in added)
                    raise errors.invalid_object(
                        rt.kind,
                        rt.group,
                        old_meta["name"],
                        [
                            errors.forbidden(
                                "metadata.finalizers",
                                "no new finalizers can be added if the object is being deleted, "
                                f"found new finalizers []string{{{listed}}}",
                            )
                        ],
                    )
        self._prepare_kind(rt, new, current_v)
        if not applied:
            self._track_write(rt, version, current_v, new, opts, subresource)
        if rt.has_generation:
            ignored = ("metadata", "status") if version.status_subresource else ("metadata",)
            if _without(new, *ignored, "apiVersion") != _without(current_v, *ignored, "apiVersion"):
                new["metadata"]["generation"] = int(old_meta.get("generation", 1)) + 1
        self._validate(rt, version, new)
        if new == current_v and version.name == rt.storage_version:
            return current_v  # a no-op write keeps the resourceVersion, as the real server does
        (stored,) = await self.converter.convert(rt, [new], rt.storage_version)
        if stored == current:
            # The real server compares what it would store: the same spec written at another version
            # may still change the stored object (ASO's spec.originalVersion), and is then written.
            return current_v
        if opts.dry_run:
            return new
        meta = current["metadata"]
        if self.store.get(rt.key, meta.get("namespace", ""), meta["name"]) is not current:
            raise WriteRetry()
        if self._finalized(rt, stored):
            event = self._remove(rt, meta.get("namespace", ""), meta["name"])
            assert event is not None
            return await self._answer(rt, event.obj, version.name)
        self._commit(rt, stored)
        return await self._answer(rt, stored, version.name)

    def _track_write(
        self,
        rt: ResourceType,
        version: Version,
        current_v: Json,
        new: Json,
        opts: WriteOptions,
        subresource: str | None,
    ) -> None:
        meta = new["metadata"]
        base = apply.requested_managed(
            meta.get("managedFields", apply.MISSING), current_v["metadata"].get("managedFields")
        )
        managed = self._track(rt, version, current_v, new, base, opts, subresource)
        if managed is None:
            managed = base
        if managed:
            meta["managedFields"] = managed
        else:
            meta.pop("managedFields", None)

    async def _apply(
        self,
        rt: ResourceType,
        version: Version,
        ns: str,
        name: str,
        config: Any,
        opts: WriteOptions,
        subresource: str | None,
    ) -> Json:
        """Server-side apply (see :mod:`.apply`); creates the object when it does not exist."""
        if not opts.field_manager:
            raise errors.invalid_object(
                "PatchOptions",
                "meta.k8s.io",
                "",
                [
                    Cause(
                        reason="FieldValueRequired",
                        field="fieldManager",
                        message="Required value: is required for apply patch",
                    )
                ],
            )
        config = self._check_named_body(rt, version.name, ns, name, config)
        meta = config["metadata"]
        for _attempt in range(10):
            current = self.store.get(rt.key, ns if rt.namespaced else "", name)
            current_v = None
            if current is not None:
                (current_v,) = await self.converter.convert(rt, [current], version.name)
            elif subresource is not None:
                raise errors.not_found(rt.group, rt.plural, name)
            result = apply.apply(
                current_v,
                config,
                version.schema,
                manager=opts.field_manager,
                api_version=rt.api_version(version.name),
                subresource=subresource,
                status_split=version.status_subresource,
                force=opts.force,
                stamp=utc_now(),
            )
            if current is None or current_v is None:
                result["metadata"].pop("resourceVersion", None)
                try:
                    created = await self.create(rt, version, ns, result, opts, applied=True)
                    opts.created = True
                    return created
                except ApiError as error:
                    if error.reason == "AlreadyExists":
                        continue
                    raise
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
                raise errors.stale(rt.group, rt.plural, name)
            result["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            try:
                return await self.write_update(
                    rt, version, current, current_v, result, opts, subresource, applied=True
                )
            except WriteRetry:
                continue
        raise errors.stale(rt.group, rt.plural, name)

    @staticmethod
    def _finalized(rt: ResourceType, obj: Json) -> bool:
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp") or meta.get("finalizers"):
            return False
        return not (rt.key == builtin.NAMESPACES.key and (obj.get("spec") or {}).get("finalizers"))

    # -- deleting --------------------------------------------------------------------------

    async def delete(
        self, rt: ResourceType, version: Version, ns: str, name: str, options: Json, opts: WriteOptions
    ) -> tuple[Json, bool]:
        """Delete or start deleting; returns (object in the request version, gone now)."""
        current = self._get_stored(rt, ns, name)
        meta = current["metadata"]
        preconditions = options.get("preconditions") or {}
        if preconditions.get("uid") and preconditions["uid"] != meta["uid"]:
            raise errors.conflict(
                rt.group,
                rt.plural,
                name,
                f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                f"UID in object meta: {meta['uid']}",
            )
        if (
            preconditions.get("resourceVersion")
            and preconditions["resourceVersion"] != meta["resourceVersion"]
        ):
            raise errors.conflict(
                rt.group,
                rt.plural,
                name,
                f"Precondition failed: ResourceVersion in precondition: {preconditions['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        policy = options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise errors.invalid_object(
                "DeleteOptions",
                "",
                "",
                [
                    errors.not_supported(
                        "propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"]
                    )
                ],
            )
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        is_namespace = rt.key == builtin.NAMESPACES.key
        if not finalizers and not is_namespace:
            if opts.dry_run:
                return (await self.output(rt, [current], version.name))[0], True
            event = self._remove(rt, meta.get("namespace", ""), name)
            assert event is not None
            return (await self.output(rt, [event.obj], version.name))[0], True
        if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
            return (await self.output(rt, [current], version.name))[0], False
        updated = copy.deepcopy(current)
        umeta = updated["metadata"]
        if finalizers:
            umeta["finalizers"] = finalizers
        if not umeta.get("deletionTimestamp"):
            umeta["deletionTimestamp"] = utc_now()
            umeta["deletionGracePeriodSeconds"] = 0
            if rt.has_generation and umeta.get("generation"):
                umeta["generation"] = int(umeta["generation"]) + 1
        if is_namespace:
            updated["status"] = {**(updated.get("status") or {}), "phase": "Terminating"}
        if opts.dry_run:
            return (await self.output(rt, [updated], version.name))[0], False
        self._commit(rt, updated)
        return (await self.output(rt, [updated], version.name))[0], False

    def delete_now(self, rt: ResourceType, ns: str, name: str, policy: str = "Background") -> None:
        """Delete from inside the server (GC, namespace controller): finalizers are honoured."""
        current = self.store.get(rt.key, ns, name)
        if current is None:
            return
        meta = current["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if not finalizers and rt.key != builtin.NAMESPACES.key:
            self._remove(rt, ns, name)
            return
        if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
            return
        updated = copy.deepcopy(current)
        umeta = updated["metadata"]
        if finalizers:
            umeta["finalizers"] = finalizers
        umeta.setdefault("deletionTimestamp", utc_now())
        umeta.setdefault("deletionGracePeriodSeconds", 0)
        self._commit(rt, updated)

    def replace_stored(self, rt: ResourceType, updated: Json) -> None:
        """Write an object the server itself changed (GC removing a finalizer or an ownerReference)."""
        meta = updated["metadata"]
        if self._finalized(rt, updated):
            self._remove(rt, meta.get("namespace", ""), meta["name"])
        else:
            self._commit(rt, updated)

    # -- listing and watching --------------------------------------------------------------

    def list_stored(self, rt: ResourceType, ns: str | None) -> list[Json]:
        return list(self.store.iter(rt.key, ns if rt.namespaced else None))

    def list_stored_at(
        self, rt: ResourceType, ns: str | None, rv: int, after: tuple[str, str] | None
    ) -> list[Json]:
        """Stored objects as they were at ``rv``, after the key ``after`` (raises ``Gone``)."""
        return self.store.list_at(rt.key, ns if rt.namespaced else None, rv, after)

    def subscribe(
        self, rt: ResourceType, ns: str | None, since: int | None
    ) -> tuple[Subscription, list[Event]]:
        return self.store.subscribe(rt.key, ns if rt.namespaced else None, since)
