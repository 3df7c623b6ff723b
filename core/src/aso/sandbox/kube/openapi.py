"""OpenAPI v2 and v3 documents, including every CRD's schema.

kubectl reads the v3 documents to learn that PATCH accepts ``fieldValidation`` (then it lets the
server validate, which is what ``kubectl apply`` does by default) and for ``kubectl explain``.
PATCH operations deliberately do not list strategic merge patch: kubectl then computes apply
patches for built-in kinds from its compiled-in types, which are exact, instead of from these
shallow schemas.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from .builtin import OBJECT_META
from .discovery import group_versions
from .model import ResourceType, Version

Json = dict[str, Any]

_META_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_STATUS_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
_PATCH_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
_DELETE_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")
_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation")


def definition_name(rt: ResourceType, version: str) -> str:
    if rt.builtin:
        package = {"": "core", "coordination.k8s.io": "coordination"}.get(rt.group, rt.group.split(".")[0])
        if rt.group == "apiextensions.k8s.io":
            return f"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{rt.kind}"
        return f"io.k8s.api.{package}.{version}.{rt.kind}"
    return ".".join(reversed(rt.group.split("."))) + f".{version}.{rt.kind}"


def _gvk(rt: ResourceType, version: str) -> Json:
    return {"group": rt.group, "version": version, "kind": rt.kind}


def _object_schema(rt: ResourceType, version: Version, ref_prefix: str) -> Json:
    body: Json = (
        copy.deepcopy(version.schema)
        if version.schema
        else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    )
    props: Json = body.setdefault("properties", {})
    props["apiVersion"] = {
        "type": "string",
        "description": "APIVersion defines the versioned schema of this representation of an object.",
    }
    props["kind"] = {
        "type": "string",
        "description": "Kind is a string value representing the REST resource this object represents.",
    }
    props["metadata"] = {"$ref": f"{ref_prefix}{_META_REF}"}
    body["type"] = "object"
    body["x-kubernetes-group-version-kind"] = [_gvk(rt, version.name)]
    return body


def _param(name: str, location: str, v3: bool, required: bool = False) -> Json:
    param: Json = {"name": name, "in": location, "uniqueItems": True}
    if required:
        param["required"] = True
    if v3:
        param["schema"] = {"type": "string"}
    else:
        param["type"] = "string"
    return param


def _operation(
    rt: ResourceType, version: str, action: str, op_id: str, ref: str, v3: bool, *, body: str | None = None
) -> Json:
    op: Json = {
        "operationId": op_id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(rt, version),
        "parameters": [_param(p, "query", v3) for p in _QUERY_PARAMS] if body else [],
        "responses": {"200": {"description": "OK"}},
    }
    if v3:
        op["responses"]["200"]["content"] = {"application/json": {"schema": {"$ref": ref}}}
        if body == "patch":
            op["requestBody"] = {
                "content": {
                    t: {"schema": {"$ref": ref.rsplit("/", 1)[0] + "/" + _PATCH_REF}} for t in _PATCH_TYPES
                },
                "required": True,
            }
        elif body == "object":
            op["requestBody"] = {"content": {"application/json": {"schema": {"$ref": ref}}}, "required": True}
    else:
        op["responses"]["200"]["schema"] = {"$ref": ref}
        if body == "patch":
            op["consumes"] = list(_PATCH_TYPES)
            op["parameters"].append(
                {
                    "name": "body",
                    "in": "body",
                    "required": True,
                    "schema": {"$ref": "#/definitions/" + _PATCH_REF},
                }
            )
        elif body == "object":
            op["parameters"].append({"name": "body", "in": "body", "required": True, "schema": {"$ref": ref}})
    return op


def _paths(rt: ResourceType, version: Version, v3: bool) -> Json:
    prefix = f"/apis/{rt.group}/{version.name}" if rt.group else f"/api/{version.name}"
    base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
    refs = "#/components/schemas/" if v3 else "#/definitions/"
    ref = refs + definition_name(rt, version.name)
    kind = rt.kind
    scope = "Namespaced" if rt.namespaced else ""
    path_params = [_param("namespace", "path", v3, True)] if rt.namespaced else []
    item_params = [*path_params, _param("name", "path", v3, True)]
    paths: Json = {
        base: {
            "get": _operation(rt, version.name, "list", f"list{scope}{kind}", ref, v3),
            "post": _operation(rt, version.name, "post", f"create{scope}{kind}", ref, v3, body="object"),
            "parameters": path_params,
        },
        f"{base}/{{name}}": {
            "get": _operation(rt, version.name, "get", f"read{scope}{kind}", ref, v3),
            "put": _operation(rt, version.name, "put", f"replace{scope}{kind}", ref, v3, body="object"),
            "patch": _operation(rt, version.name, "patch", f"patch{scope}{kind}", ref, v3, body="patch"),
            "delete": _operation(rt, version.name, "delete", f"delete{scope}{kind}", ref, v3),
            "parameters": item_params,
        },
    }
    if version.status_subresource:
        paths[f"{base}/{{name}}/status"] = {
            "get": _operation(rt, version.name, "get", f"read{scope}{kind}Status", ref, v3),
            "put": _operation(rt, version.name, "put", f"replace{scope}{kind}Status", ref, v3, body="object"),
            "patch": _operation(
                rt, version.name, "patch", f"patch{scope}{kind}Status", ref, v3, body="patch"
            ),
            "parameters": item_params,
        }
    return paths


def _common_schemas(ref_prefix: str) -> Json:
    meta = copy.deepcopy(OBJECT_META)
    meta["properties"]["ownerReferences"]["items"] = {
        "$ref": f"{ref_prefix}io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"
    }
    return {
        _META_REF: meta,
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": copy.deepcopy(
            OBJECT_META["properties"]["ownerReferences"]["items"]
        ),
        _STATUS_REF: {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        _PATCH_REF: {
            "type": "object",
            "description": "Patch is provided to give a concrete name and type to the PATCH request body.",
        },
        _DELETE_REF: {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    }


def group_version_paths(types: list[ResourceType]) -> list[str]:
    """The ``/openapi/v3`` keys: ``api/v1`` and ``apis/<group>/<version>``."""
    keys: list[str] = []
    for group, members in sorted(_by_group(types).items()):
        for version in group_versions(members):
            keys.append(f"apis/{group}/{version}" if group else f"api/{version}")
    return keys


def _by_group(types: list[ResourceType]) -> dict[str, list[ResourceType]]:
    groups: dict[str, list[ResourceType]] = {}
    for rt in types:
        groups.setdefault(rt.group, []).append(rt)
    return groups


def v3_document(types: list[ResourceType], group: str, version: str) -> Json | None:
    members = [rt for rt in types if rt.group == group and rt.version(version) is not None]
    if not members:
        return None
    schemas = _common_schemas("#/components/schemas/")
    paths: Json = {}
    for rt in members:
        served = rt.version(version)
        assert served is not None
        schemas[definition_name(rt, version)] = _object_schema(rt, served, "#/components/schemas/")
        paths.update(_paths(rt, served, True))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def v3_root(types: list[ResourceType]) -> Json:
    paths: Json = {}
    for key in group_version_paths(types):
        parts = key.split("/")
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        doc = v3_document(types, group, version)
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}


def v2_document(types: list[ResourceType]) -> Json:
    definitions = _common_schemas("#/definitions/")
    paths: Json = {}
    for rt in types:
        for served in rt.served_versions:
            definitions[definition_name(rt, served.name)] = _object_schema(rt, served, "#/definitions/")
            paths.update(_paths(rt, served, False))
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "definitions": definitions,
    }


#: How the API server labels ``/openapi/v2`` in protobuf (client-go asks for ``...spec.v2@v1.0+protobuf``;
#: the ``@`` is no valid media type, so the answer spells it with a dot).
V2_PROTOBUF_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def v2_protobuf_stub() -> bytes:
    """An ``openapi_v2.Document`` with ``swagger`` and ``info`` only, in protobuf.

    kubectl reads ``/openapi/v2`` (protobuf only) just for group-versions that ``/openapi/v3`` does
    not list, i.e. kinds that are not installed. An empty document makes it treat them as unknown and
    go on to its "no matches for kind ... ensure CRDs are installed first"; a 406 made it stop with
    "failed to download openapi". The full v2 document is served as JSON.
    """

    def field(number: int, payload: bytes) -> bytes:
        # Wire type 2 (length-delimited); every length here is below 128, a single-byte varint.
        assert len(payload) < 128
        return bytes([number << 3 | 2, len(payload)]) + payload

    info = field(1, b"Kubernetes") + field(2, b"v1.32.0")
    return field(1, b"2.0") + field(2, info)
