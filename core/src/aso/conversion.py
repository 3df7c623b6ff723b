"""Hub-and-spoke version conversion and the Kubernetes ConversionReview webhook.

Kubernetes stores every object at the kind's storage version (ASO's ``v1api20200601storage``: the
hub's schema plus ``spec.originalVersion`` and ``$propertyBag`` fields), which users do not write, so
every write at a served version comes through here. Converting goes source -> hub -> destination
through the kinds' converters (a plain copy when a version declares none); a storage version has the
shape of the served version it is named after. A conversion to a storage version records in
``spec.originalVersion`` the served version the object was written in, so the reconciler talks to
ARM with that version's API version while kopf watches the storage version.

Whatever the destination has no place for is kept in the property bag annotation and restored when
the object is converted to a version that has a place for it again, so no field is lost in a round
trip. ASO v2's own ``$propertyBag`` fields (on objects it stored) are read into that annotation.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from aso.host import Registry
from aso.kinds import KindVersion, ResourceKind
from aso.schemas import ORIGINAL_VERSION_FIELD, PROPERTY_BAG_FIELD, object_schema

__all__ = [
    "ORIGINAL_VERSION_ANNOTATION",
    "PROPERTY_BAG_ANNOTATION",
    "ConversionError",
    "conversion_app",
    "convert",
    "convert_object",
    "original_version",
    "review",
    "written_body",
]

PROPERTY_BAG_ANNOTATION = "aso.dev/property-bag"
#: Where aso releases before storage versions kept the original version (objects stored at the hub).
ORIGINAL_VERSION_ANNOTATION = "aso.dev/original-version"
_BODY_FIELDS = ("spec", "status")
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

log = logging.getLogger("aso.conversion")


class ConversionError(ValueError):
    """An object cannot be converted; the message names what is wrong."""


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, sep, version = api_version.rpartition("/")
    if not sep or not group or not version:
        raise ConversionError(f"apiVersion {api_version!r}: expected '<group>/<version>'")
    return group, version


def _prune(value: Any, schema: Mapping[str, Any], path: str, bag: dict[str, Any]) -> Any:
    """``value`` without what ``schema`` has no place for; what was dropped goes into ``bag`` by path."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return value
    if isinstance(value, dict) and ("properties" in schema or "additionalProperties" in schema):
        props: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        kept: dict[str, Any] = {}
        for key, item in value.items():
            child_path = f"{path}.{key}" if path else key
            if key in props:
                kept[key] = _prune(item, props[key], child_path, bag)
            elif isinstance(extra, Mapping):
                kept[key] = _prune(item, extra, child_path, bag)
            elif extra is True:
                kept[key] = item
            else:
                bag[child_path] = item
        return kept
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_prune(item, schema["items"], f"{path}[{i}]", bag) for i, item in enumerate(value)]
    return value


def _restore(body: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` back at ``path`` unless something is there already or its parent is gone."""
    steps = [(m.group(1), m.group(2)) for m in _SEGMENT.finditer(path)]
    node: Any = body
    for i, (key, index) in enumerate(steps):
        last = i == len(steps) - 1
        if index is not None:
            pos = int(index)
            if not isinstance(node, list) or pos >= len(node):
                return
            if last:
                return  # list items themselves are never bagged, only fields inside them
            node = node[pos]
            continue
        if not isinstance(node, dict):
            return
        if last:
            node.setdefault(key, value)
            return
        nxt = node.get(key)
        if nxt is None:
            nxt = node[key] = {}
        node = nxt


def convert(registry: Registry, obj: Mapping[str, Any], desired_api_version: str) -> dict[str, Any]:
    """``obj`` converted to ``desired_api_version`` (``<group>/<version>``); raises ConversionError."""
    if not isinstance(obj, Mapping):
        raise ConversionError("object: expected a JSON object")
    api_version = obj.get("apiVersion")
    kind_name = obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind_name, str):
        raise ConversionError("object: apiVersion and kind are required strings")
    group, _ = _split_api_version(api_version)
    dst_group, dst_name = _split_api_version(desired_api_version)
    if dst_group != group:
        raise ConversionError(f"desiredAPIVersion {desired_api_version!r}: group differs from {group!r}")
    kind = registry.kind(group, kind_name)
    if kind is None:
        raise ConversionError(f"kind {group}/{kind_name}: not served by any loaded plugin")
    return convert_object(kind, obj, dst_name)


def convert_object(kind: ResourceKind, obj: Mapping[str, Any], version: str) -> dict[str, Any]:
    """``obj`` (an object of ``kind``) converted to ``version``, a served or a storage version."""
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str):
        raise ConversionError("object: apiVersion is a required string")
    _, src_name = _split_api_version(api_version)
    try:
        src, dst = kind.served_version_of(src_name), kind.served_version_of(version)
    except KeyError as exc:
        raise ConversionError(str(exc.args[0])) from exc
    src_storage, dst_storage = src.name != src_name, dst.name != version

    result = copy.deepcopy(dict(obj))
    metadata = result.setdefault("metadata", {})
    annotations: dict[str, str] = dict(metadata.get("annotations") or {})
    body: dict[str, Any] = {k: result.pop(k) for k in _BODY_FIELDS if k in result}
    schema = object_schema(kind, dst.name)["properties"]

    written = _written_version(kind, src, src_storage, body, annotations)
    old_bag = _read_bag(annotations)
    if src_storage:
        old_bag.update(_take_aso_bags(body, schema))
    for path, value in sorted(old_bag.items()):
        _restore(body, path, value)
    if src.name != kind.storage_version and src.to_hub is not None:
        body = src.to_hub(body)
    if dst.name != kind.storage_version and dst.from_hub is not None:
        body = dst.from_hub(body)

    bag: dict[str, Any] = {}
    for field in _BODY_FIELDS:
        if field in body:
            result[field] = _prune(body[field], schema[field], field, bag)
    if dst_storage:
        result.setdefault("spec", {})[ORIGINAL_VERSION_FIELD] = written
        annotations.pop(ORIGINAL_VERSION_ANNOTATION, None)

    if bag:
        annotations[PROPERTY_BAG_ANNOTATION] = json.dumps(bag, sort_keys=True, separators=(",", ":"))
    else:
        annotations.pop(PROPERTY_BAG_ANNOTATION, None)
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    result["apiVersion"] = f"{kind.group}/{version}"
    return result


def _written_version(
    kind: ResourceKind,
    src: KindVersion,
    src_storage: bool,
    body: dict[str, Any],
    annotations: Mapping[str, str],
) -> str:
    """The served version the object was last written in, as a conversion to storage records it.

    From a served version it is that version (a user wrote it), except for an object an earlier aso
    release stored at the hub with the annotation; from a storage version it is what it recorded.
    """
    legacy = annotations.get(ORIGINAL_VERSION_ANNOTATION)
    if src_storage:
        spec = body.get("spec")
        recorded = spec.pop(ORIGINAL_VERSION_FIELD, None) if isinstance(spec, dict) else None
        return str(recorded or legacy or src.name)
    if src.name == kind.storage_version and legacy and any(v.name == legacy for v in kind.versions):
        return str(legacy)
    return str(src.name)


def _take_aso_bags(body: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Remove ASO's ``$propertyBag`` fields from ``body``; their entries by our bag's paths.

    ASO keys the bag by Go property name (``IsHnsEnabled``) and stores a string as it is and any
    other value as JSON; the destination schema says which name and which of the two it is.
    """
    found: dict[str, Any] = {}

    def walk(node: Any, node_schema: Any, path: str) -> None:
        node_schema = node_schema if isinstance(node_schema, Mapping) else {}
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, node_schema.get("items"), f"{path}[{i}]")
            return
        if not isinstance(node, dict):
            return
        props: Mapping[str, Any] = node_schema.get("properties") or {}
        raw = node.pop(PROPERTY_BAG_FIELD, None)
        if isinstance(raw, Mapping):
            for key, value in raw.items():
                name = next((p for p in props if p.lower() == str(key).lower()), None)
                name = name or str(key)[:1].lower() + str(key)[1:]
                found[f"{path}.{name}"] = _bag_value(value, props.get(name))
        extra = node_schema.get("additionalProperties")
        for key, child in node.items():
            walk(child, props.get(key, extra), f"{path}.{key}")

    for field in _BODY_FIELDS:
        walk(body.get(field), schema.get(field), field)
    return found


def _bag_value(value: Any, schema: Any) -> Any:
    if not isinstance(value, str) or (isinstance(schema, Mapping) and schema.get("type") == "string"):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _read_bag(annotations: Mapping[str, str]) -> dict[str, Any]:
    raw = annotations.get(PROPERTY_BAG_ANNOTATION)
    if not raw:
        return {}
    try:
        bag = json.loads(raw)
    except ValueError as exc:
        raise ConversionError(
            f"metadata.annotations[{PROPERTY_BAG_ANNOTATION!r}]: not valid JSON ({exc})"
        ) from exc
    if not isinstance(bag, dict):
        raise ConversionError(f"metadata.annotations[{PROPERTY_BAG_ANNOTATION!r}]: expected a JSON object")
    return bag


def original_version(kind: ResourceKind, obj: Mapping[str, Any]) -> str:
    """The served version ``obj`` was last written in: ``spec.originalVersion`` of the stored object,
    else the annotation of an object stored by an earlier aso release, else the hub (also when the
    version recorded is not served any more)."""
    spec = obj.get("spec") or {}
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    for name in (spec.get(ORIGINAL_VERSION_FIELD), annotations.get(ORIGINAL_VERSION_ANNOTATION)):
        if name and any(v.name == name for v in kind.versions):
            return str(name)
    return kind.storage_version


def written_body(kind: ResourceKind, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The stored object in the shape of the version it was last written in
    (:func:`original_version`): the spec that version's schema maps to ARM with that version's
    api-version, as ASO v2 converts to the original version before it builds the ARM body. Differs
    from the hub's shape only for versions with converters (renamed fields)."""
    return convert_object(kind, obj, original_version(kind, obj))


def review(registry: Registry, request_body: Any) -> dict[str, Any]:
    """Answer one apiextensions.k8s.io/v1 ConversionReview; never raises on bad input."""
    uid = ""
    try:
        if not isinstance(request_body, Mapping):
            raise ConversionError("body: expected a ConversionReview JSON object")
        request = request_body.get("request")
        if not isinstance(request, Mapping):
            raise ConversionError("request: required object is missing")
        uid = str(request.get("uid") or "")
        if not uid:
            raise ConversionError("request.uid: required string is missing")
        desired = request.get("desiredAPIVersion")
        if not isinstance(desired, str):
            raise ConversionError("request.desiredAPIVersion: required string is missing")
        objects = request.get("objects")
        if not isinstance(objects, list):
            raise ConversionError("request.objects: required list is missing")
        converted = []
        for i, obj in enumerate(objects):
            try:
                converted.append(convert(registry, obj, desired))
            except ConversionError as exc:
                raise ConversionError(f"request.objects[{i}]: {exc}") from exc
        response: dict[str, Any] = {
            "uid": uid,
            "result": {"status": "Success"},
            "convertedObjects": converted,
        }
    except ConversionError as exc:
        log.warning("conversion failed: %s", exc)
        response = {"uid": uid, "result": {"status": "Failed", "message": str(exc)}}
    api_version = "apiextensions.k8s.io/v1"
    if isinstance(request_body, Mapping) and isinstance(request_body.get("apiVersion"), str):
        api_version = request_body["apiVersion"]
    return {"apiVersion": api_version, "kind": "ConversionReview", "response": response}


def conversion_app(registry: Registry) -> web.Application:
    """An aiohttp application serving ``POST /convert`` (serve it over TLS) and ``GET /healthz``."""

    async def handle_convert(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        return web.json_response(review(registry, body))

    async def handle_health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/convert", handle_convert)
    app.router.add_get("/healthz", handle_health)
    return app
