"""The HTTP face of the API server (aiohttp) and :class:`KubeApiServer`, its start/stop API.

URL layout, query parameters, content negotiation (JSON, server-side Table), watch streaming and
``Warning`` headers live here; what the requests mean lives in :mod:`.cluster`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import socket
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web

from aso.common import LoopThread

from . import builtin, discovery, errors, metaonly, openapi, protobuf, scale, tables
from .cluster import Cluster, WriteOptions
from .conversion import ServiceResolver, WebhookConverter
from .errors import ApiError
from .model import ResourceType, Version
from .selectors import FieldRequirement, Requirement, match_fields, match_labels, parse_fields, parse_labels
from .store import Event, Gone, Store

T = TypeVar("T")
Json = dict[str, Any]
log = logging.getLogger(__name__)

#: The API server's default ``--max-request-body-bytes`` (``MaxRequestBodyBytes``): 3 MiB.
MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024

JSON_TYPE = "application/json"
TABLE_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"
SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-aso",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _respond(
    body: Any, status: int = 200, content_type: str = JSON_TYPE, warnings: Iterable[str] = ()
) -> web.Response:
    response = web.Response(body=_dumps(body), status=status, headers={"Content-Type": content_type})
    for warning in warnings:
        response.headers.add("Warning", f"299 - {json.dumps(warning)}")
    return response


def _not_found() -> ApiError:
    return ApiError(code=404, reason="NotFound", message="the server could not find the requested resource")


def _error(error: ApiError) -> web.Response:
    return _respond(error.status(), status=error.code)


@dataclass(frozen=True)
class Target:
    """A parsed resource URL."""

    group: str
    version: str
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None


def _parse_path(segments: list[str]) -> Target | None:
    if segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    else:
        group, version, rest = segments[1], segments[2], segments[3:]
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    return Target(
        group=group,
        version=version,
        plural=rest[0],
        namespace=namespace,
        name=rest[1] if len(rest) > 1 else None,
        subresource=rest[2] if len(rest) > 2 else None,
    )


class _Duplicates(dict[str, Any]):
    """A JSON object that had repeated keys (kept for fieldValidation reports)."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    repeated: list[str] = []
    for key, value in pairs:
        if key in result:
            repeated.append(key)
        result[key] = value
    if repeated:
        marked = _Duplicates(result)
        marked.duplicates = repeated
        return marked
    return result


def _duplicate_paths(value: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        if isinstance(value, _Duplicates):
            found += [f"{path}.{key}" if path else key for key in value.duplicates]
        for key, child in value.items():
            found += _duplicate_paths(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _duplicate_paths(child, f"{path}[{i}]")
    return found


def _wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in accept.split(","))


class Handlers:
    def __init__(self, cluster: Cluster, *, bookmark_interval: float) -> None:
        self.cluster = cluster
        self.bookmark_interval = bookmark_interval
        self._cache: dict[Any, Any] = {}
        self.address = ""

    def _cached(self, name: Any, build: Any) -> Any:
        key = (name, self.cluster.types_generation)
        if key not in self._cache:
            if len(self._cache) > 200:
                self._cache.clear()
            self._cache[key] = build()
        return self._cache[key]

    # -- non-resource endpoints ------------------------------------------------------------

    async def version(self, request: web.Request) -> web.Response:
        return _respond(SERVER_VERSION)

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def openapi_v2(self, request: web.Request) -> web.Response:
        accept = request.headers.get("Accept", "")
        if "protobuf" in accept and "json" not in accept and "*/*" not in accept:
            # kubectl asks in protobuf only for kinds /openapi/v3 lacks: it gets an empty document.
            return web.Response(
                body=openapi.v2_protobuf_stub(), headers={"Content-Type": openapi.V2_PROTOBUF_TYPE}
            )
        doc = self._cached("v2", lambda: _dumps(openapi.v2_document(list(self.cluster.types.values()))))
        return web.Response(body=doc, headers={"Content-Type": JSON_TYPE})

    async def openapi_v3(self, request: web.Request) -> web.Response:
        tail = request.match_info.get("tail", "").strip("/")
        types = list(self.cluster.types.values())
        if not tail:
            return _respond(self._cached("v3root", lambda: openapi.v3_root(types)))
        parts = tail.split("/")
        if parts[0] == "api" and len(parts) == 2:
            group, version = "", parts[1]
        elif parts[0] == "apis" and len(parts) == 3:
            group, version = parts[1], parts[2]
        else:
            return _error(_not_found())
        doc = self._cached(("v3", group, version), lambda: openapi.v3_document(types, group, version))
        if doc is None:
            return _error(_not_found())
        return web.Response(
            body=self._cached(("v3b", group, version), lambda: _dumps(doc)),
            headers={"Content-Type": JSON_TYPE},
        )

    # -- the API tree ----------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._api(request)
        except ApiError as error:
            log.debug("%s %s -> %s %s", request.method, request.path_qs, error.code, error.message)
            return _error(error)
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:
            log.exception("internal error serving %s %s", request.method, request.path)
            return _error(errors.internal(f"{type(exc).__name__}: {exc}"))

    async def _api(self, request: web.Request) -> web.StreamResponse:
        segments = [s for s in request.path.split("/") if s]
        groups = self.cluster.groups()
        if segments == ["api"]:
            return _respond(discovery.api_versions(self.address))
        if segments == ["apis"]:
            return _respond(self._cached("apis", lambda: discovery.api_group_list(groups)))
        if len(segments) == 2 and segments[0] == "apis":
            members = groups.get(segments[1])
            if not members or segments[1] == "":
                raise _not_found()
            return _respond(discovery.api_group(segments[1], members))
        if (segments[0] == "api" and len(segments) == 2) or (segments[0] == "apis" and len(segments) == 3):
            group = "" if segments[0] == "api" else segments[1]
            gv = segments[-1]
            members = [rt for rt in groups.get(group, []) if rt.version(gv)]
            if not members:
                raise _not_found()
            return _respond(
                self._cached(("rl", group, gv), lambda: discovery.resource_list(group, gv, members))
            )
        target = _parse_path(segments)
        if target is None:
            raise _not_found()
        rt, version = self.cluster.resolve(target.group, target.version, target.plural)
        if target.namespace is not None and not rt.namespaced:
            raise _not_found()
        if target.subresource is not None and not (
            (target.subresource == "status" and version.status_subresource)
            or (target.subresource == "scale" and version.scale is not None)
        ):
            raise _not_found()
        method = request.method
        if target.name is None:
            if method == "GET":
                if request.query.get("watch") in ("true", "1"):
                    return await self._watch(request, rt, version, target.namespace)
                return await self._list(request, rt, version, target.namespace)
            if method == "POST":
                if rt.namespaced and target.namespace is None:
                    raise errors.method_not_allowed()
                return await self._create(request, rt, version, target.namespace or "")
            if method == "DELETE":
                return await self._delete_collection(request, rt, version, target.namespace)
            raise errors.method_not_allowed()
        if rt.namespaced and target.namespace is None:
            raise _not_found()
        ns = target.namespace or ""
        if target.subresource == "scale":
            return await self._scale(request, rt, version, ns, target.name)
        if method == "GET":
            obj = await self.cluster.get(rt, version.name, ns, target.name)
            partial = metaonly.requested(request.headers.get("Accept", ""), collection=False)
            if partial is not None:
                return _respond(metaonly.item(obj, partial[1]), content_type=metaonly.content_type(*partial))
            if _wants_table(request):
                return _respond(
                    tables.table(
                        rt, version, [obj], include_object=request.query.get("includeObject", "Metadata")
                    ),
                    content_type=TABLE_TYPE,
                )
            return _respond(obj)
        if method == "PUT":
            opts = self._write_options(request)
            body = await self._body(request, opts)
            obj = await self.cluster.update(rt, version, ns, target.name, body, opts, target.subresource)
            return _respond(obj, warnings=opts.warnings)
        if method == "PATCH":
            opts = self._write_options(request)
            content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
            body = await self._body(request, opts, content_type=content_type, patch=True)
            obj = await self.cluster.patch(
                rt, version, ns, target.name, content_type, body, opts, target.subresource
            )
            return _respond(obj, status=201 if opts.created else 200, warnings=opts.warnings)
        if method == "DELETE":
            if target.subresource is not None:
                raise errors.method_not_allowed()
            opts = self._write_options(request)
            options = await self._delete_options(request, opts)
            obj, gone = await self.cluster.delete(rt, version, ns, target.name, options, opts)
            if gone and rt.builtin and rt.key not in (builtin.NAMESPACES.key, builtin.CRDS.key):
                meta = obj["metadata"]
                return _respond(
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Success",
                        "details": {
                            "name": meta["name"],
                            "group": rt.group,
                            "kind": rt.plural,
                            "uid": meta["uid"],
                        },
                    }
                )
            return _respond(obj)
        raise errors.method_not_allowed()

    async def _scale(
        self, request: web.Request, rt: ResourceType, version: Version, ns: str, name: str
    ) -> web.Response:
        if request.method not in ("GET", "PUT", "PATCH"):
            raise errors.method_not_allowed()
        opts = self._write_options(request)
        content_type = request.headers.get("Content-Type", JSON_TYPE).split(";")[0].strip()
        body = None
        if request.method != "GET":
            body = await self._body(request, opts, content_type=content_type, patch=request.method == "PATCH")
        result = await scale.serve(
            self.cluster, rt, version, ns, name, request.method, body, content_type, opts
        )
        return _respond(result, warnings=opts.warnings)

    # -- request decoding ------------------------------------------------------------------

    def _write_options(self, request: web.Request) -> WriteOptions:
        validation = request.query.get("fieldValidation", "Warn") or "Warn"
        if validation not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(
                f'fieldValidation parameter unsupported: "{validation}"; '
                "must be one of Ignore, Warn or Strict"
            )
        dry_run = request.query.getall("dryRun", [])
        if any(d != "All" for d in dry_run):
            raise errors.bad_request(f"Invalid dryRun value: {dry_run}")
        manager = request.query.get("fieldManager") or ""
        if len(manager) > 128:
            raise errors.invalid_object(
                "PatchOptions", "meta.k8s.io", "", [errors.too_long("fieldManager", 128)]
            )
        return WriteOptions(
            field_validation=validation,
            dry_run=bool(dry_run),
            field_manager=manager,
            user_agent=request.headers.get("User-Agent", "").split("/")[0][:128],
            force=request.query.get("force") in ("true", "1"),
        )

    async def _body(
        self,
        request: web.Request,
        opts: WriteOptions,
        *,
        content_type: str | None = None,
        patch: bool = False,
    ) -> Any:
        media = content_type or request.headers.get("Content-Type", JSON_TYPE).split(";")[0].strip()
        raw = await _read_limited(request)
        if media == "application/vnd.kubernetes.protobuf" and not patch:
            return protobuf.decode(raw)
        if "protobuf" in media:
            raise errors.unsupported_media_type(media, [JSON_TYPE, "application/yaml"])
        try:
            if media in ("application/yaml", "application/apply-patch+yaml"):
                return yaml.safe_load(raw)
            text = raw.decode()
            if patch and media == "application/json-patch+json":
                return json.loads(text)
            if opts.field_validation != "Strict":
                # Duplicate keys are only looked for under Strict: the hook costs a third of a write.
                return json.loads(text)
            body = json.loads(text, object_pairs_hook=_pairs)
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"error decoding request body: {exc}") from exc
        duplicates = _duplicate_paths(body)
        if duplicates:
            listed = ", ".join(f'duplicate field "{d}"' for d in duplicates)
            raise errors.bad_request(f"strict decoding error: {listed}")
        return body

    async def _delete_options(self, request: web.Request, opts: WriteOptions) -> Json:
        options: Json = {}
        if request.can_read_body:
            raw = await _read_limited(request)
            if raw.startswith(protobuf.MAGIC):
                options = protobuf.decode(raw)  # client-go's typed clients (Helm) send protobuf
            elif raw.strip():
                try:
                    parsed = json.loads(raw)
                except ValueError as exc:
                    raise errors.bad_request(f"error decoding DeleteOptions: {exc}") from exc
                if isinstance(parsed, dict):
                    options = parsed
        # kubectl and client-go send dryRun in the DeleteOptions body, not in the query string.
        dry_run = options.get("dryRun") or []
        if not isinstance(dry_run, list) or any(d != "All" for d in dry_run):
            raise errors.bad_request(f"Invalid dryRun value: {dry_run}")
        if dry_run:
            opts.dry_run = True
        for key in ("propagationPolicy", "gracePeriodSeconds"):
            if key in request.query:
                options[key] = request.query[key]
        if "orphanDependents" in request.query:
            options["orphanDependents"] = request.query["orphanDependents"] == "true"
        return options

    # -- create, list, delete collection ---------------------------------------------------

    async def _create(
        self, request: web.Request, rt: ResourceType, version: Version, ns: str
    ) -> web.Response:
        opts = self._write_options(request)
        body = await self._body(request, opts)
        obj = await self.cluster.create(rt, version, ns, body, opts)
        return _respond(obj, status=201, warnings=opts.warnings)

    def _selectors(
        self, request: web.Request, rt: ResourceType
    ) -> tuple[list[Requirement], list[FieldRequirement]]:
        labels = parse_labels(request.query.get("labelSelector"))
        fields = parse_fields(request.query.get("fieldSelector"), rt.field_selectors, rt.kind)
        return labels, fields

    async def _list(
        self, request: web.Request, rt: ResourceType, version: Version, ns: str | None
    ) -> web.Response:
        labels, fields = self._selectors(request, rt)
        start = request.query.get("continue")
        if start:
            # A continue token pins the list's resourceVersion: every page shows the objects as
            # they were when the first page was served (etcd reads at that revision).
            if request.query.get("resourceVersion"):
                raise errors.bad_request("specifying resource version is not allowed when using continue")
            list_rv, after = _parse_continue(start)
            if list_rv == -1:  # an expired token's successor: the rest, as it is now
                list_rv = self.cluster.store.rv
            try:
                items = self.cluster.list_stored_at(rt, ns, list_rv, after)
            except Gone as gone:
                raise errors.continue_expired(_continue_token(-1, after)) from gone
        else:
            list_rv = self.cluster.store.rv
            items = self.cluster.list_stored(rt, ns)
        if labels or fields:
            items = [o for o in items if match_labels(labels, o) and match_fields(fields, o)]
        meta: Json = {"resourceVersion": str(list_rv)}
        limit = int(request.query.get("limit") or 0)
        if limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            meta["continue"] = _continue_token(list_rv, (last.get("namespace", ""), last["name"]))
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        items = await self.cluster.output(rt, items, version.name)
        partial = metaonly.requested(request.headers.get("Accept", ""), collection=True)
        if partial is not None:
            return _respond(
                metaonly.listing(items, meta, partial[1]), content_type=metaonly.content_type(*partial)
            )
        if _wants_table(request):
            return _respond(
                tables.table(
                    rt,
                    version,
                    items,
                    include_object=request.query.get("includeObject", "Metadata"),
                    list_meta=meta,
                ),
                content_type=TABLE_TYPE,
            )
        body = {
            "apiVersion": rt.api_version(version.name),
            "kind": rt.list_kind,
            "metadata": meta,
            "items": items,
        }
        return web.Response(body=_dumps(body), headers={"Content-Type": JSON_TYPE})

    async def _delete_collection(
        self, request: web.Request, rt: ResourceType, version: Version, ns: str | None
    ) -> web.Response:
        if "deletecollection" not in rt.verbs:
            raise errors.method_not_allowed()
        labels, fields = self._selectors(request, rt)
        opts = self._write_options(request)
        options = await self._delete_options(request, opts)
        deleted = []
        for obj in self.cluster.list_stored(rt, ns):
            if match_labels(labels, obj) and match_fields(fields, obj):
                meta = obj["metadata"]
                with contextlib.suppress(ApiError):
                    out, _ = await self.cluster.delete(
                        rt, version, meta.get("namespace", ""), meta["name"], options, opts
                    )
                    deleted.append(out)
        body = {
            "apiVersion": rt.api_version(version.name),
            "kind": rt.list_kind,
            "metadata": {"resourceVersion": str(self.cluster.store.rv)},
            "items": deleted,
        }
        return _respond(body)

    # -- watch -----------------------------------------------------------------------------

    async def _watch(
        self, request: web.Request, rt: ResourceType, version: Version, ns: str | None
    ) -> web.StreamResponse:
        labels, fields = self._selectors(request, rt)
        query = request.query
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        send_initial = query.get("sendInitialEvents") == "true"
        partial = metaonly.requested(request.headers.get("Accept", ""), collection=None)
        table = _wants_table(request) and partial is None
        include = query.get("includeObject", "Metadata")
        timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else None
        rv_param = query.get("resourceVersion") or ""
        since: int | None = None
        if rv_param not in ("", "0") and not send_initial:
            try:
                since = int(rv_param)
            except ValueError as exc:
                raise errors.bad_request(f"invalid resource version: {rv_param}") from exc
        response = web.StreamResponse(
            headers={
                "Content-Type": metaonly.content_type(*partial)
                if partial
                else TABLE_TYPE
                if table
                else JSON_TYPE,
                "Cache-Control": "no-cache",
            }
        )
        initial: list[Json] = []
        try:
            # Listing and subscribing happen with no await in between: nothing can slip through.
            if since is None:
                initial = self.cluster.list_stored(rt, ns)
            sub, replay = self.cluster.subscribe(rt, ns, since)
        except Gone as gone:
            await response.prepare(request)
            status = errors.gone(str(gone)).status()
            await response.write(_dumps({"type": "ERROR", "object": status}) + b"\n")
            return response

        def matches(obj: Json | None) -> bool:
            if obj is None:
                return False
            if ns is not None and rt.namespaced and obj["metadata"].get("namespace") != ns:
                return False
            return match_labels(labels, obj) and match_fields(fields, obj)

        selective = bool(labels or fields)
        first = True

        async def send(kind: str, obj: Json, event: Event | None = None) -> None:
            nonlocal first
            cache_key = (kind, version.name, table, include, first, partial)
            if event is not None and cache_key in event.cache:
                await response.write(event.cache[cache_key])
                return
            (shown,) = await self.cluster.output(rt, [obj], version.name)
            if partial is not None:
                shown = metaonly.item(shown, partial[1])
            if table:
                shown = tables.table(rt, version, [shown], include_object=include, headers=first)
                first = False
            line = _dumps({"type": kind, "object": shown}) + b"\n"
            if event is not None and not table:
                event.cache[cache_key] = line
            await response.write(line)

        async def bookmark(initial_end: bool = False) -> None:
            meta: Json = {"resourceVersion": str(self.cluster.store.rv)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            obj = {"kind": rt.kind, "apiVersion": rt.api_version(version.name), "metadata": meta}
            if partial is not None:
                obj = metaonly.item(obj, partial[1])
            await response.write(_dumps({"type": "BOOKMARK", "object": obj}) + b"\n")

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        try:
            await response.prepare(request)
            for obj in initial:
                if matches(obj):
                    await send("ADDED", obj)
            if send_initial and bookmarks:
                await bookmark(initial_end=True)
            pending: list[Event] = list(replay)
            last_write = loop.time()
            while True:
                if pending:
                    event = pending.pop(0)
                else:
                    wait = 1.0
                    if deadline is not None:
                        wait = min(wait, deadline - loop.time())
                        if wait <= 0:
                            break
                    try:
                        next_event = await asyncio.wait_for(sub.queue.get(), timeout=wait)
                    except TimeoutError:
                        transport = request.transport
                        if transport is None or transport.is_closing():
                            break
                        if (
                            bookmarks
                            and loop.time() - last_write >= self.bookmark_interval
                            and sub.queue.empty()
                        ):
                            await bookmark()
                            last_write = loop.time()
                        continue
                    if next_event is None:
                        break
                    event = next_event
                kind = event.type
                if ns is not None and rt.namespaced and event.obj["metadata"].get("namespace") != ns:
                    continue
                if selective:
                    now_in = matches(event.obj) if kind != "DELETED" else False
                    was_in = matches(event.old) if kind != "ADDED" else False
                    if kind == "DELETED":
                        was_in = matches(event.obj)
                    if kind == "MODIFIED":
                        kind = (
                            "MODIFIED"
                            if (now_in and was_in)
                            else "ADDED"
                            if now_in
                            else "DELETED"
                            if was_in
                            else ""
                        )
                    elif (kind == "ADDED" and not now_in) or (kind == "DELETED" and not was_in):
                        kind = ""
                    if not kind:
                        continue
                    await send(kind, event.obj)
                else:
                    await send(kind, event.obj, event)
                last_write = loop.time()
        except (ConnectionResetError, ConnectionError):
            pass
        except ApiError as error:
            with contextlib.suppress(ConnectionError):
                await response.write(_dumps({"type": "ERROR", "object": error.status()}) + b"\n")
        finally:
            self.cluster.store.unsubscribe(sub)
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response


def _continue_token(rv: int, after: tuple[str, str]) -> str:
    """An opaque continue token: the list's resourceVersion and the last key served
    (``-1``: continue at the latest state, as Kubernetes' successor of an expired token)."""
    token = {"v": "meta.k8s.io/v1", "rv": rv, "start": list(after)}
    return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode()


def _parse_continue(text: str) -> tuple[int, tuple[str, str]]:
    try:
        token = json.loads(base64.urlsafe_b64decode(text.encode()))
        if token.get("v") != "meta.k8s.io/v1":
            raise ValueError(f"unexpected version {token.get('v')!r}")
        rv = token["rv"]
        namespace, name = token["start"]
        if not isinstance(rv, int) or rv < -1 or rv == 0:
            raise ValueError(f"incorrect encoded start resourceVersion (version meta.k8s.io/v1): {rv!r}")
        return rv, (str(namespace), str(name))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise errors.bad_request(f"continue key is not valid: {exc}") from exc


async def _read_limited(request: web.Request, limit: int = MAX_REQUEST_BODY_BYTES) -> bytes:
    """The body, or 413 once it passes ``limit`` (``limitedReadBody``: never more is buffered)."""
    if request.content_length is not None and request.content_length > limit:
        raise errors.request_entity_too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise errors.request_entity_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(handlers: Handlers) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/version", handlers.version)
    for path in ("/healthz", "/livez", "/readyz"):
        app.router.add_get(path, handlers.health)
    app.router.add_get("/openapi/v2", handlers.openapi_v2)
    app.router.add_get("/openapi/v3", handlers.openapi_v3)
    app.router.add_get("/openapi/v3/{tail:.*}", handlers.openapi_v3)
    app.router.add_route("*", "/api", handlers.api)
    app.router.add_route("*", "/api/{tail:.*}", handlers.api)
    app.router.add_route("*", "/apis", handlers.api)
    app.router.add_route("*", "/apis/{tail:.*}", handlers.api)
    return app


CrdSource = Path | str | Json


def load_crd_documents(sources: Iterable[CrdSource]) -> list[Json]:
    """CRDs from YAML files (multi-document; directories read ``*.yaml``), YAML text paths, or dicts."""
    documents: list[Json] = []
    for source in sources:
        if isinstance(source, dict):
            documents.append(source)
            continue
        path = Path(source)
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        for file in files:
            for doc in yaml.safe_load_all(file.read_text()):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    documents.append(doc)
    return documents


class KubeApiServer:
    """A local Kubernetes API server on a loopback port (plain HTTP, no authentication).

    ``async with KubeApiServer() as server:`` or ``await server.start()`` / ``await server.stop()``.
    With ``state_dir`` the objects and the resourceVersion counter survive a restart.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: Path | str | None = None,
        crds: Sequence[CrdSource] = (),
        resolve_service: ServiceResolver | None = None,
        history_size: int = 200_000,
        history_seconds: float = 300.0,
        bookmark_interval: float = 10.0,
        event_ttl: float = 3600.0,
    ) -> None:
        self.host = host
        self._port = port
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self._crds = list(crds)
        self.store = Store(self.state_dir, history_size=history_size, history_seconds=history_seconds)
        self.converter = WebhookConverter(resolve_service=resolve_service)
        self.cluster = Cluster(self.store, self.converter)
        self._handlers = Handlers(self.cluster, bookmark_interval=bookmark_interval)
        self._runner: web.AppRunner | None = None
        self._event_ttl = event_ttl
        self._controllers: Any = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    async def start(self) -> None:
        from .controllers import Controllers

        self.store.load()
        self.cluster.bootstrap()
        self._controllers = Controllers(self.cluster, event_ttl=self._event_ttl)
        self._controllers.start()
        if self._crds:
            await self.install_crds(self._crds)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        self._port = sock.getsockname()[1]
        self._handlers.address = f"{self.host}:{self._port}"
        self._runner = web.AppRunner(build_app(self._handlers), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.SockSite(self._runner, sock)
        await site.start()
        log.info("Kubernetes API server listening on %s", self.url)

    async def stop(self) -> None:
        # Closing the watch queues first lets streaming handlers finish before the runner waits on them.
        self.store.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._controllers is not None:
            await self._controllers.stop()
            self._controllers = None
        await self.converter.close()
        self.store.close()

    async def __aenter__(self) -> KubeApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def install_crds(self, sources: Iterable[CrdSource]) -> list[str]:
        """Create or update CRDs in-process (no HTTP); returns their names. Invalid ones raise ApiError."""
        names: list[str] = []
        rt = builtin.CRDS
        version = rt.versions[0]
        for doc in load_crd_documents(sources):
            body = json.loads(json.dumps(doc))
            name = body.get("metadata", {}).get("name", "")
            current = self.store.get(rt.key, "", name)
            opts = WriteOptions(field_validation="Ignore")
            if current is None:
                await self.cluster.create(rt, version, "", body, opts)
            else:
                body.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
                await self.cluster.update(rt, version, "", name, body, opts, None)
            names.append(name)
        return names

    def kubeconfig(self, *, namespace: str = "default", name: str = "aso-sandbox") -> Json:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": self.url}}],
            "users": [{"name": name, "user": {"token": "aso-sandbox"}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
            "current-context": name,
            "preferences": {},
        }

    def write_kubeconfig(
        self, path: Path | str, *, namespace: str = "default", name: str = "aso-sandbox"
    ) -> Path:
        """Write a kubeconfig for kubectl, the kubernetes client and kopf; returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(self.kubeconfig(namespace=namespace, name=name), sort_keys=False))
        return target


class KubeApiServerThread:
    """A :class:`KubeApiServer` on its own event loop in a daemon thread.

    For synchronous callers (the blocking ``kubernetes`` client, kubectl subprocesses) and for tests
    whose own event loop runs kopf: the server never competes with them for a loop.
    """

    def __init__(self, **options: Any) -> None:
        self.server = KubeApiServer(**options)
        self._thread: LoopThread | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self, timeout: float = 30.0) -> None:
        self._thread = LoopThread("kube-api-server", self.server.start, self.server.stop)
        self._thread.start(timeout)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop (e.g. ``server.install_crds(...)``) and wait for it."""
        assert self._thread is not None, "the server is not running"
        return self._thread.call(coro, timeout)

    def install_crds(self, sources: Iterable[CrdSource]) -> list[str]:
        return self.call(self.server.install_crds(list(sources)))

    def write_kubeconfig(self, path: Path | str, *, namespace: str = "default") -> Path:
        return self.server.write_kubeconfig(path, namespace=namespace)

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            self._thread.stop(timeout)
            self._thread = None

    def __enter__(self) -> KubeApiServerThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
