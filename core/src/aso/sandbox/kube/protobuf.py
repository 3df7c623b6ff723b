"""Decoding of the Kubernetes protobuf request bodies kubectl's generators send.

``kubectl create namespace|configmap|secret|serviceaccount`` use typed clients that send
``application/vnd.kubernetes.protobuf`` (a ``k8s\\0`` magic, then a ``runtime.Unknown`` envelope
around the object); client-go's typed clients send a delete's ``DeleteOptions`` the same way.
Only those kinds are decoded, into the same JSON shape the server stores; responses are always
JSON, which the clients accept. Field numbers follow the ``generated.proto`` files of
k8s.io/api and k8s.io/apimachinery.
"""

from __future__ import annotations

import base64
from typing import Any

from . import errors

Json = dict[str, Any]
MAGIC = b"k8s\x00"

# A field spec: (json name, kind) with kind one of: "str", "bytes", "int", "bool", "time",
# "map" (string→string), "bmap" (string→bytes as base64), "strs" (repeated string), or a nested
# message spec (dict), optionally repeated as ("list", spec).
Spec = dict[int, tuple[str, Any]]

_TIME: Spec = {1: ("seconds", "int"), 2: ("nanos", "int")}
_OWNER_REF: Spec = {
    1: ("kind", "str"),
    3: ("name", "str"),
    4: ("uid", "str"),
    5: ("apiVersion", "str"),
    6: ("controller", "bool"),
    7: ("blockOwnerDeletion", "bool"),
}
_OBJECT_META: Spec = {
    1: ("name", "str"),
    2: ("generateName", "str"),
    3: ("namespace", "str"),
    5: ("uid", "str"),
    6: ("resourceVersion", "str"),
    7: ("generation", "int"),
    11: ("labels", "map"),
    12: ("annotations", "map"),
    13: ("ownerReferences", ("list", _OWNER_REF)),
    14: ("finalizers", "strs"),
}
_KINDS: dict[str, Spec] = {
    "ConfigMap": {
        1: ("metadata", _OBJECT_META),
        2: ("data", "map"),
        3: ("binaryData", "bmap"),
        4: ("immutable", "bool"),
    },
    "Secret": {
        1: ("metadata", _OBJECT_META),
        2: ("data", "bmap"),
        3: ("type", "str"),
        4: ("stringData", "map"),
        5: ("immutable", "bool"),
    },
    "Namespace": {1: ("metadata", _OBJECT_META), 2: ("spec", {1: ("finalizers", "strs")})},
    "ServiceAccount": {1: ("metadata", _OBJECT_META), 4: ("automountServiceAccountToken", "bool")},
    # What client-go's typed clients (Helm's release storage, controllers) send with a DELETE.
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "int"),
        2: ("preconditions", {1: ("uid", "str"), 2: ("resourceVersion", "str")}),
        3: ("orphanDependents", "bool"),
        4: ("propagationPolicy", "str"),
        5: ("dryRun", "strs"),
    },
}
_UNKNOWN: Spec = {1: ("typeMeta", {1: ("apiVersion", "str"), 2: ("kind", "str")}), 2: ("raw", "bytes")}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """Wire-level fields: (number, varint value or length-delimited bytes); fixed widths skipped."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out


def _message(data: bytes, spec: Spec) -> Json:
    result: Json = {}
    for number, raw in _fields(data):
        if number not in spec:
            continue
        name, kind = spec[number]
        if kind == "str" and isinstance(raw, bytes):
            # gogo-protobuf writes empty strings; JSON omits Go zero values.
            if raw:
                result[name] = raw.decode()
        elif (kind == "bytes" and isinstance(raw, bytes)) or (kind == "int" and isinstance(raw, int)):
            result[name] = raw
        elif kind == "bool" and isinstance(raw, int):
            result[name] = bool(raw)
        elif kind in ("map", "bmap") and isinstance(raw, bytes):
            entry = _message(raw, {1: ("k", "str"), 2: ("v", "str" if kind == "map" else "bytes")})
            value = entry.get("v", "" if kind == "map" else b"")
            if kind == "bmap":
                value = base64.b64encode(value).decode()
            result.setdefault(name, {})[entry.get("k", "")] = value
        elif kind == "strs" and isinstance(raw, bytes):
            result.setdefault(name, []).append(raw.decode())
        elif isinstance(kind, tuple) and isinstance(raw, bytes):
            result.setdefault(name, []).append(_message(raw, kind[1]))
        elif isinstance(kind, dict) and isinstance(raw, bytes):
            result[name] = _message(raw, kind)
    return result


def decode(body: bytes) -> Json:
    """A protobuf request body as the JSON object it encodes; 415 for kinds not decoded here."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("protobuf body without the k8s magic prefix")
    try:
        envelope = _message(body[len(MAGIC) :], _UNKNOWN)
        type_meta = envelope.get("typeMeta", {})
        kind = type_meta.get("kind", "")
        spec = _KINDS.get(kind)
        if spec is None:
            raise errors.unsupported_media_type(
                "application/vnd.kubernetes.protobuf", ["application/json", "application/yaml"]
            )
        obj = _message(envelope.get("raw", b""), spec)
    except ValueError as exc:
        raise errors.bad_request(f"error decoding protobuf body: {exc}") from exc
    obj.setdefault("metadata", {})
    return {"apiVersion": type_meta.get("apiVersion", "v1"), "kind": kind, **obj}
