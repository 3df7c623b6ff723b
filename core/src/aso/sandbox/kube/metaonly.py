"""Partial object metadata: ``Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1``.

client-go's metadata client (metadata-only informers, the garbage collector, ``kubectl`` for some
lookups) asks for objects reduced to ``metadata``. The first media range of ``Accept`` that the
server can answer wins, as in the API server's negotiation: a protobuf range is skipped (responses
are JSON), a plain ``application/json`` or ``*/*`` means the whole object. Asking for the list form
of a single object, or the single form of a list, is 406, as there.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError

Json = dict[str, Any]

GROUP = "meta.k8s.io"
ITEM = "PartialObjectMetadata"
LIST = "PartialObjectMetadataList"
_VERSIONS = ("v1", "v1beta1")


def _params(media_range: str) -> tuple[str, dict[str, str]]:
    media, *rest = (part.strip() for part in media_range.split(";"))
    params: dict[str, str] = {}
    for item in rest:
        key, _, value = item.partition("=")
        params[key.strip()] = value.strip()
    return media.lower(), params


def requested(accept: str, *, collection: bool | None) -> tuple[str, str] | None:
    """(kind, version) of the metadata form the client asked for, or None for whole objects.

    ``collection``: the request is a list, or a single object; None (a watch, whose events are
    single objects) takes either form.
    """
    ranges = [r for r in accept.split(",") if r.strip()]
    if not ranges:
        return None
    wrong: str | None = None
    for media_range in ranges:
        media, params = _params(media_range)
        if media not in ("application/json", "application/*", "*/*"):
            continue
        kind = params.get("as")
        if kind is None:
            return None
        if kind not in (ITEM, LIST) or params.get("g") != GROUP:
            continue  # Table and other forms are someone else's, or not served
        version = params.get("v", "v1")
        if version not in _VERSIONS:
            continue
        if collection is not None and (kind == LIST) != collection:
            wrong = kind
            continue
        return kind, version
    if wrong is not None:
        shape = "a list" if collection else "a single object"
        raise ApiError(
            code=406,
            reason="NotAcceptable",
            message=f"only the following media types are accepted: application/json, application/yaml, "
            f"application/vnd.kubernetes.protobuf (you requested {wrong} for {shape})",
        )
    return None


def content_type(kind: str, version: str) -> str:
    return f"application/json;as={kind};g={GROUP};v={version}"


def item(obj: Json, version: str) -> Json:
    return {"kind": ITEM, "apiVersion": f"{GROUP}/{version}", "metadata": obj.get("metadata", {})}


def listing(items: list[Json], list_meta: Json, version: str) -> Json:
    return {
        "kind": LIST,
        "apiVersion": f"{GROUP}/{version}",
        "metadata": list_meta,
        "items": [item(obj, version) for obj in items],
    }
