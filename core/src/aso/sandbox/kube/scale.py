"""The ``/scale`` subresource of custom resources (``autoscaling/v1`` ``Scale``).

A CRD version with ``subresources.scale`` names where its replicas live
(``specReplicasPath``, ``statusReplicasPath``) and, optionally, a serialised label selector
(``labelSelectorPath``). GET answers a ``Scale`` built from the object; PUT and PATCH (JSON merge,
strategic merge as merge, JSON patch) change a ``Scale`` and write its ``spec.replicas`` back to
the object at ``specReplicasPath``, as a main-resource write (``generation``, schema validation and
``managedFields`` with ``subresource: scale``). Apply patches on ``/scale`` are not served (415).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from aso.common import get_path, merge_patch, set_path

from . import errors
from .cluster import WriteRetry
from .patch import PatchError, json_patch

if TYPE_CHECKING:
    from .cluster import Cluster, WriteOptions
    from .model import ResourceType, ScaleSpec, Version

Json = dict[str, Any]

SCALE_API_VERSION = "autoscaling/v1"


def read(obj: Json, path: str) -> Any:
    """The value at a scale path (``.spec.replicas``, JSONPath-like with a leading dot)."""
    return get_path(obj, path.lstrip("."))


def to_scale(obj: Json, spec: ScaleSpec) -> Json:
    meta = obj["metadata"]
    status: Json = {"replicas": read(obj, spec.status_replicas_path) or 0}
    if spec.label_selector_path:
        selector = read(obj, spec.label_selector_path)
        if isinstance(selector, str) and selector:
            status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": SCALE_API_VERSION,
        "metadata": {
            key: meta[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in meta
        },
        "spec": {"replicas": read(obj, spec.spec_replicas_path) or 0},
        "status": status,
    }


def _validate(name: str, scale: Any) -> int:
    if not isinstance(scale, dict):
        raise errors.bad_request("the body of the request must be a Scale object")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise errors.invalid_object(
            "Scale",
            "autoscaling",
            name,
            [errors.type_invalid("spec.replicas", replicas, "must be an integer")],
        )
    if replicas < 0:
        raise errors.invalid_object(
            "Scale",
            "autoscaling",
            name,
            [errors.invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
        )
    return replicas


async def serve(
    cluster: Cluster,
    rt: ResourceType,
    version: Version,
    ns: str,
    name: str,
    method: str,
    body: Any,
    content_type: str,
    opts: WriteOptions,
) -> Json:
    """GET, PUT or PATCH ``.../<name>/scale``; returns the ``Scale`` after the request."""
    spec = version.scale
    assert spec is not None
    for _attempt in range(10):
        current = cluster.store.get(rt.key, ns if rt.namespaced else "", name)
        if current is None:
            raise errors.not_found(rt.group, f"{rt.plural}/scale", name)
        (current_v,) = await cluster.converter.convert(rt, [current], version.name)
        scale = to_scale(current_v, spec)
        if method == "GET":
            return scale
        if method == "PUT":
            wanted = body
        elif content_type == "application/json-patch+json":
            try:
                wanted = json_patch(scale, body)
            except PatchError as exc:
                raise errors.unprocessable(str(exc)) from exc
        elif content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            if not isinstance(body, dict):
                raise errors.bad_request("merge patch must be a JSON object")
            wanted = merge_patch(scale, body)
        else:
            raise errors.unsupported_media_type(
                content_type,
                [
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/strategic-merge-patch+json",
                ],
            )
        replicas = _validate(name, wanted)
        wanted_rv = ((wanted or {}).get("metadata") or {}).get("resourceVersion")
        if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
            raise errors.stale(rt.group, rt.plural, name)
        new = copy.deepcopy(current_v)
        set_path(new, spec.spec_replicas_path.lstrip("."), replicas)
        try:
            written = await cluster.write_update(rt, version, current, current_v, new, opts, "scale")
        except WriteRetry:
            continue
        return to_scale(written, spec)
    raise errors.stale(rt.group, rt.plural, name)
