"""The ARM emulator's HTTPS server: token endpoint, ARM resource API and the control API.

One aiohttp application on one loopback port serves three things:

- ``/{tenant}/v2.0/.well-known/openid-configuration`` and ``/{tenant}/oauth2/v2.0/token``:
  the identity endpoints azure-identity talks to (see :mod:`.auth`);
- ``/_emulator/...``: the control API for tests (see :mod:`.control`);
- everything else: Azure Resource Manager (``/subscriptions/...``).

Per-request work is kept small (a dict lookup for the token, one for the resource) so the
emulator is never the bottleneck of a benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from aso.common import copy_json, free_port, utc_now

from . import catalog, errors, ids, rules
from .auth import EXPIRED, Caller, Identity, Principal, TokenRequestError
from .bodies import (
    deep_merge,
    get_path,
    merge_patch,
    new_key,
    normalise,
    pop_path,
    render,
    shaped,
    strip_request,
    values_differ,
)
from .errors import ErrorReply
from .faults import FaultRule, Faults
from .ids import RESOURCE_GROUP_TYPE, ArmPath
from .lro import RESULT_SEGMENT, STATUS_SEGMENT, AsyncOperation, Operations, format_retry_after, retry_header
from .profiles import (
    DEFAULT_LOCATION_RULE,
    GENERIC,
    REGION_DISPLAY_NAMES,
    REGION_PAIRS,
    LroSpec,
    Profile,
    ProfileRegistry,
    default_registry,
    known_location,
    name_matches,
    region_key,
)
from .state import StateDir
from .store import Store, StoredResource
from .tags import check_tags

log = logging.getLogger(__name__)

POLL_SEGMENTS = {STATUS_SEGMENT.lower(), RESULT_SEGMENT.lower()}
JSON = "application/json"


@dataclass(kw_only=True)
class EmulatorConfig:
    """How to run an emulator.

    ``retry_after`` overrides the Retry-After of every profile (tests use small values so SDK
    pollers do not sleep for seconds); ``profiles`` adds profile mappings on top of the built-in
    and entry-point ones; ``principals`` are registered besides the default principal.
    """

    host: str = "127.0.0.1"
    port: int = 0
    state_dir: Path | None = None
    retry_after: float | None = None
    profiles: Sequence[Mapping[str, Any]] = ()
    principals: Sequence[Principal] = ()
    flush_interval: float = 0.5


@dataclass
class _Default:
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_secret: str = field(default_factory=lambda: new_key()[:40])
    subscription_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body).encode() if body is not None else None,
        content_type=JSON if body is not None else None,
        headers=headers,
    )


def error_response(err: ErrorReply) -> web.Response:
    return json_response(err.status, err.body(), err.headers)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the server will: a port in TIME_WAIT from our previous run is free to reuse.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


class ArmEmulator:
    """A local Azure Resource Manager over HTTPS. ``await start()``, then use ``endpoint``."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.state = StateDir(self.config.state_dir)
        self.tls = self.state.tls()
        self.identity = Identity(self.state.signing_key())
        self.profiles: ProfileRegistry = default_registry(self.config.profiles)
        # Types without a profile already named in the log (once each); reset() clears it too.
        self._generic_logged: set[str] = set()
        self.store = Store()
        self.faults = Faults()
        self.operations = Operations(self._operation_completed)
        self.default = _Default()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._identity_dirty = False
        self._load_state()

    # Life cycle --------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"https://{self.config.host}:{self.port}"

    @property
    def ca_path(self) -> Path:
        return self.tls.ca_path

    @property
    def default_principal(self) -> Principal:
        p = self.identity.principal(self.default.tenant_id, self.default.client_id)
        assert p is not None
        return p

    def _load_state(self) -> None:
        data = self.state.load_store()
        if data:
            self.default = _Default(**data["default"])
            self.identity.load(data.get("identity", {}))
            self.store.load(data.get("resources", []))
            self.operations.load(data.get("operations", []))
        self._install_default_principals()

    def _install_default_principals(self) -> None:
        d = self.default
        if self.identity.principal(d.tenant_id, d.client_id) is None:
            self.identity.add_principal(
                Principal(
                    tenant_id=d.tenant_id,
                    client_id=d.client_id,
                    client_secret=d.client_secret,
                    subscriptions=[d.subscription_id],
                )
            )
        for p in self.config.principals:
            self.identity.add_principal(p)

    def save_state(self) -> None:
        if not self.state.persistent:
            # Nothing to write to: do not even build the snapshot (it grows with the store).
            self.store.dirty = self.operations.dirty = self._identity_dirty = False
            return
        self.state.save_store(
            {
                "default": vars(self.default),
                "identity": self.identity.dump(),
                "resources": self.store.dump(),
                "operations": self.operations.dump(),
            }
        )
        self.store.dirty = self.operations.dirty = self._identity_dirty = False

    async def start(self) -> None:
        host = self.config.host
        port = self.config.port or self.state.saved_port() or 0
        if port and not port_is_free(host, port):
            if self.config.port:
                raise OSError(f"port {port} on {host} is in use")
            port = 0
        self.port = port or free_port(host)
        self.identity.endpoint = self.endpoint
        app = web.Application(client_max_size=32 * 1024 * 1024)
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, self.port, ssl_context=self.tls.server_context(host))
        await site.start()
        self.state.save_port(self.port)
        self._ticker = asyncio.create_task(self._tick())
        log.info("ARM emulator listening on %s", self.endpoint)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.save_state()

    async def __aenter__(self) -> ArmEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _tick(self) -> None:
        """Complete time-based operations and flush state to disk now and then."""
        since_flush = 0.0
        step = 0.05
        while True:
            await asyncio.sleep(step)
            for op in self.operations.due():
                self.operations.complete(op)
            since_flush += step
            if since_flush >= self.config.flush_interval:
                since_flush = 0.0
                if self.store.dirty or self.operations.dirty or self._identity_dirty:
                    self.save_state()

    def mark_identity_dirty(self) -> None:
        self._identity_dirty = True

    def reset(self) -> None:
        """Forget resources, operations, faults, counts and run-time profile changes."""
        self.store.clear()
        self.operations.clear()
        self.faults.clear()
        self.faults.reset_counts()
        self.profiles = default_registry(self.config.profiles)
        self._generic_logged = set()
        # Principals added at run time stay; the default one comes back if a test removed it.
        self._install_default_principals()

    # Routing -----------------------------------------------------------------------------

    def _routes(self, app: web.Application) -> None:
        from .control import add_control_routes

        # ARM first: its requests then cost one route match (clients spell "subscriptions" in
        # lower case; other casings still reach _arm through the catch-all below).
        app.router.add_route("*", "/subscriptions{tail:(/.*)?}", self._arm)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_get("/{tenant}/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/{tenant}/oauth2/token", self._token)
        add_control_routes(app, self)
        # Cloud discovery: clients (the Azure CLI) read it before they have a token.
        app.router.add_get("/metadata/endpoints", self._metadata)
        app.router.add_route("*", "/{tail:.*}", self._arm)

    async def _metadata(self, request: web.Request) -> web.Response:
        api_version = request.query.get("api-version")
        if not api_version:
            return error_response(errors.missing_api_version())
        return json_response(200, catalog.cloud_metadata(self.endpoint, api_version))

    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant.lower() not in self.identity.tenants() and tenant.lower() not in (
            "organizations",
            "common",
        ):
            err = TokenRequestError(400, "invalid_tenant", f"Tenant '{tenant}' not found.", 90002)
            return json_response(err.status, err.body())
        return json_response(200, self.identity.openid_configuration(tenant))

    async def _token(self, request: web.Request) -> web.StreamResponse:
        fault = self.faults.take(request.method, request.path_qs)
        if fault is not None:
            resp = await self._apply_fault(fault, request)
            if resp is not None:
                return resp
        form = await request.post()
        try:
            body = self.identity.issue(request.match_info["tenant"], {k: str(v) for k, v in form.items()})
        except TokenRequestError as err:
            return json_response(err.status, err.body())
        return json_response(200, body)

    # ARM ---------------------------------------------------------------------------------

    async def _arm(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        path = request.path
        segs = ids.split_path(path)
        is_poll = len(segs) >= 2 and segs[-2].lower() in POLL_SEGMENTS
        parsed = None if is_poll else ids.parse(path)
        self.faults.count(method, segs[-2] if is_poll else (parsed.full_type if parsed else "other"))
        try:
            fault = self.faults.take(method, request.path_qs)
            if fault is not None:
                resp = await self._apply_fault(fault, request)
                if resp is not None:
                    return resp
            caller = self.identity.verify(request.headers.get("Authorization"))
            if isinstance(caller, str):
                raise ErrorReply(
                    401,
                    "ExpiredAuthenticationToken" if caller == EXPIRED else "InvalidAuthenticationToken",
                    caller,
                    {
                        "WWW-Authenticate": "Bearer "
                        f'authorization_uri="{self.endpoint}/{self.default.tenant_id}", '
                        f'error="invalid_token", error_description="{caller}"'
                    },
                )
            api_version = request.query.get("api-version")
            if not api_version:
                raise errors.missing_api_version()
            if is_poll:
                return self._poll(caller, segs, api_version)
            if parsed is None:
                if segs == ["subscriptions"] and method == "GET":
                    return json_response(200, {"value": self.identity.subscriptions_of(caller)})
                if len(segs) == 3 and segs[2].lower() == "providers" and method == "GET":
                    # /subscriptions/{s}/providers: every registered provider
                    scope = ArmPath(
                        subscription=segs[1], trailing="providers", scope_id=f"/subscriptions/{segs[1]}"
                    )
                    self._authorise(caller, scope, method)
                    return self._generic_collection(scope, method)
                raise ErrorReply(404, "NotFound", f"The requested path '{path}' is not an ARM resource path.")
            self._authorise(caller, parsed, method)
            return await self._dispatch(request, parsed, api_version)
        except ErrorReply as err:
            return error_response(err)

    async def _apply_fault(self, fault: FaultRule, request: web.Request) -> web.StreamResponse | None:
        if fault.action == "slow":
            await asyncio.sleep(fault.delay)
            return None
        if fault.action == "reset":
            # Drop the connection without an answer; what aiohttp then writes goes nowhere.
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = format_retry_after(fault.retry_after)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        return error_response(ErrorReply(fault.status, fault.code or "Error", fault.message or "", headers))

    def _authorise(self, caller: Caller, p: ArmPath, method: str) -> None:
        if self.identity.may_use(caller, p.subscription):
            return
        verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(
            method, "action"
        )
        raise errors.authorization_failed(caller.client_id, f"{p.full_type}/{verb}", p.id)

    async def _dispatch(self, request: web.Request, p: ArmPath, api_version: str) -> web.StreamResponse:
        method = request.method
        if p.is_subscription and p.trailing is None:
            sub = self.identity.subscriptions.get(p.subscription.lower())
            if sub is None or method != "GET":
                raise ErrorReply(
                    404,
                    "SubscriptionNotFound",
                    f"The subscription '{p.subscription}' could not be found.",
                )
            return json_response(200, sub)
        if p.resource_groups_collection:
            if method != "GET":
                raise ErrorReply(405, "MethodNotAllowed", f"The method '{method}' is not allowed.")
            rgs = self.store.by_type(RESOURCE_GROUP_TYPE, under=f"/subscriptions/{p.subscription}")
            return json_response(200, {"value": [r.body for r in rgs]})
        if p.namespace is None and p.trailing is not None:
            return self._generic_collection(p, method)
        if p.is_resource_group:
            return await self._resource(request, p, api_version, rg=True)
        if p.namespace is not None and not p.names:
            if method == "POST" and len(p.types) == 1 and p.types[0].lower() == "checknameavailability":
                return await self._check_name(request, p)
            return self._provider_level(p, method)
        if p.is_resource:
            return await self._resource(request, p, api_version, rg=False)
        # A resource followed by one more segment: a child collection (GET) or an action (POST).
        if method == "POST":
            return await self._action(request, p)
        if method == "GET":
            self._require(_owner(p), "read", must_exist=True)
            return json_response(200, {"value": [r.body for r in self.store.children(p.id, p.full_type)]})
        raise ErrorReply(405, "MethodNotAllowed", f"The method '{method}' is not allowed on a collection.")

    def _generic_collection(self, p: ArmPath, method: str) -> web.Response:
        trailing = (p.trailing or "").lower()
        if trailing == "resources" and method == "GET":
            if p.rg_id and not self.store.exists(p.rg_id):
                raise errors.resource_group_not_found(p.resource_group or "")
            scope = p.rg_id or f"/subscriptions/{p.subscription}"
            out = []
            for res in self.store.all():
                q = ids.parse(res.id)
                if (
                    q is not None
                    and q.is_resource
                    and len(q.names) == 1
                    and ids.key(res.id).startswith(ids.key(scope) + "/")
                ):
                    out.append(res.body)
            return json_response(200, {"value": out})
        if trailing == "providers" and method == "GET":
            found = catalog.namespaces(self.profiles.all(), (r.type for r in self.store.all()))
            return json_response(200, {"value": [self._provider_doc(p.subscription, ns) for ns in found]})
        if trailing == "locations" and method == "GET" and p.resource_group is None:
            return json_response(200, catalog.locations(p.subscription))
        raise ErrorReply(404, "NotFound", f"No route for '{p.trailing}'.")

    def _provider_doc(self, subscription: str, namespace: str) -> dict[str, Any]:
        return catalog.provider(subscription, namespace, self.profiles.all())

    async def _check_name(self, request: web.Request, p: ArmPath) -> web.Response:
        """``POST .../providers/{ns}/checkNameAvailability`` with ``{"name", "type"}``."""
        body = await self._read_json(request)
        name, declared = body.get("name"), body.get("type")
        if not isinstance(name, str) or not name:
            raise errors.invalid_request_content("'name' is required")
        ns = p.namespace or ""
        if isinstance(declared, str) and declared:
            full_type = declared if "/" in declared else f"{ns}/{declared}"
        else:
            # Providers whose request has no type (Redis) check their one top-level type.
            tops = [q for q in self.profiles.all() if q.type.lower().startswith(ns.lower() + "/")]
            full_type = min((q.type for q in tops), key=len, default=f"{ns}/unknown")
        profile = self.profiles.find(full_type)
        taken = any(
            r.id.rsplit("/", 1)[-1].lower() == name.lower() for r in self.store.by_type(full_type)
        ) and (profile is None or profile.globally_unique is not None)
        return json_response(200, catalog.check_name_availability(profile, name, taken))

    def _provider_level(self, p: ArmPath, method: str) -> web.Response:
        if not p.types:
            # /subscriptions/{s}/providers/{ns} (get) and .../{ns}/register (post)
            return json_response(200, self._provider_doc(p.subscription, p.namespace or ""))
        if len(p.types) == 1 and p.trailing and p.trailing.lower() == "register" and method == "POST":
            return json_response(200, self._provider_doc(p.subscription, p.namespace or ""))
        if method != "GET":
            raise ErrorReply(
                405, "MethodNotAllowed", f"The method '{method}' is not allowed on a collection."
            )
        if p.rg_id and not self.store.exists(p.rg_id):
            raise errors.resource_group_not_found(p.resource_group or "")
        found = [r.body for r in self.store.by_type(p.full_type, under=p.scope_id) if _top_level(r.id)]
        return json_response(200, {"value": found})

    # Resources ---------------------------------------------------------------------------

    def _describe(self, p: ArmPath) -> str:
        parts = [p.namespace or ""]
        for t, n in zip(p.types, p.names, strict=False):
            parts += [t, n]
        return "/".join(parts)

    def _require(self, p: ArmPath, verb: str, must_exist: bool = False) -> StoredResource | None:
        """Check the resource group and parent of ``p`` exist; return the resource if stored."""
        if p.resource_group is not None and not p.is_resource_group and not self.store.exists(p.rg_id or ""):
            orphan = "ResourceGroupNotFound"
            if len(p.names) > 1:
                rules = self.profiles.get(p.full_type).orphan_error
                orphan = rules.get(verb, rules.get("*", orphan))
            if orphan == "ParentResourceNotFound":
                raise errors.parent_not_found(verb, "/".join(p.types), p.parent_id)
            if orphan == "ResourceNotFound":
                top = replace(p, types=p.types[:1], names=p.names[:1], trailing=None)
                raise errors.resource_not_found(self._describe(top), p.resource_group)
            raise errors.resource_group_not_found(p.resource_group)
        if p.is_resource:
            parent = p.parent_id
            scope_key = ids.key(p.rg_id or f"/subscriptions/{p.subscription}")
            if ids.key(parent) != scope_key and not self.store.exists(parent):
                rules = self.profiles.get(p.full_type).parent_missing_error
                if rules.get(verb, rules.get("*")) == "ResourceNotFound":
                    raise errors.resource_not_found(self._describe(p), p.resource_group)
                raise errors.parent_not_found(verb, "/".join(p.types), parent)
        res = self.store.get(p.id)
        if res is None and must_exist:
            raise errors.resource_not_found(self._describe(p), p.resource_group)
        return res

    async def _resource(
        self, request: web.Request, p: ArmPath, api_version: str, *, rg: bool
    ) -> web.StreamResponse:
        method = request.method
        full_type = p.full_type
        profile = self.profiles.get(full_type)
        if profile is GENERIC and full_type.lower() not in self._generic_logged:
            self._generic_logged.add(full_type.lower())
            log.info("ARM type %s has no profile: generic ARM behaviour (synchronous, echo)", full_type)
        group_rule = profile.name_rule if rg else None
        if (
            group_rule is not None
            and p.resource_group is not None
            and not name_matches(group_rule, p.resource_group)
        ):
            # ARM checks a group's name whatever the method (a read of one gets the same 400).
            raise ErrorReply(group_rule.status, group_rule.code, group_rule.refusal(p.resource_group))
        if method in ("GET", "HEAD"):
            res = self._require(p, "read")
            retry: dict[str, str] | None = None
            if res is not None and res.operation_id:
                op = self.operations.get(res.operation_id)
                if op is not None:
                    # Without operation URLs, clients poll the resource: each GET is a poll, and
                    # says when to read again while the operation runs.
                    if op.poll_on_get:
                        self.operations.poll(op)
                        if not op.done:
                            retry = retry_header(op)
                    else:
                        self.operations.check(op)
                res = self.store.get(p.id)
            if res is None:
                if method == "HEAD":
                    return web.Response(status=404)
                if rg:
                    raise errors.resource_group_not_found(p.resource_group or "")
                raise rules.not_found(p, profile, self._describe(p))
            if method == "HEAD":
                return web.Response(status=204)
            return json_response(200, shaped(res.body, profile.resolve(api_version, res.body)), retry)
        existing = self.store.get(p.id)
        if existing is not None and existing.operation_id:
            # Work the provider does on its own (unlinking) advances with every request a
            # client makes on the resource, refused writes included.
            running = self.operations.get(existing.operation_id)
            if running is not None and running.kind == "follow-up":
                self.operations.poll(running)
        if method in ("PUT", "PATCH", "DELETE") and p.is_resource and len(p.names) > 1:
            rules.refuse_if_parent_busy(self.store, self.operations, self.profiles.get, p)
        if method == "PUT":
            body = await self._read_json(request)
            check_tags(body, full_type)
            seen = {**(existing.body if existing else {}), **body}
            return self._put(p, profile.resolve(api_version, seen), body, api_version, rg=rg)
        if method == "PATCH":
            body = await self._read_json(request)
            check_tags(body, full_type)
            seen = {**(existing.body if existing else {}), **body}
            return self._patch(p, profile.resolve(api_version, seen), body, api_version, rg=rg)
        if method == "DELETE":
            resolved = profile.resolve(api_version, existing.body if existing else None)
            return self._delete(p, resolved, api_version, rg=rg)
        raise ErrorReply(405, "MethodNotAllowed", f"The method '{method}' is not allowed.")

    async def _read_json(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise errors.invalid_request_content(str(exc)) from exc
        if not isinstance(body, dict):
            raise errors.invalid_request_content("the body must be a JSON object")
        return body

    def _context(self, p: ArmPath, res_location: Any, existing: StoredResource | None) -> dict[str, Any]:
        parent_location = None
        if len(p.names) > 1 or not p.is_resource:
            top = self.store.get(p.parent_id) if p.is_resource else None
            while top is not None and top.body.get("location") is None:
                q = ids.parse(top.id)
                top = (
                    self.store.get(q.parent_id)
                    if q is not None and q.is_resource and len(q.names) > 1
                    else None
                )
            parent_location = top.body.get("location") if top is not None else None
        location = res_location if res_location is not None else parent_location
        return {
            "name": p.names[-1] if p.names else p.resource_group,
            "parentName": p.names[-2] if len(p.names) > 1 else "",
            "topName": p.names[0] if p.names else p.resource_group,
            "resourceGroup": p.resource_group or "",
            "subscription": p.subscription,
            "location": location,
            "locationKey": region_key(location) if isinstance(location, str) else "",
            "locationDisplay": REGION_DISPLAY_NAMES.get(region_key(location), location)
            if isinstance(location, str)
            else None,
            "parentLocation": parent_location,
            "locationPair": REGION_PAIRS.get(region_key(location), "") if isinstance(location, str) else "",
            "id": existing.id if existing else p.id,
            "created": existing.created_at if existing else utc_now(3),
            "tenant": self.default.tenant_id,
        }

    def _build(
        self,
        p: ArmPath,
        profile: Profile,
        request_body: dict[str, Any],
        existing: StoredResource | None,
        ctx: dict[str, Any],
        state: str,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        computed = existing.computed if existing else render(dict(profile.computed), ctx)
        body = deep_merge(render(dict(profile.defaults), ctx), request_body)
        normalise(body, profile)
        body = deep_merge(body, computed)
        body = deep_merge(body, render(dict(profile.set), ctx))
        name = body.pop("name", None)
        # An update may spell the id differently: name and type keep the creating request's casing.
        out: dict[str, Any] = {
            "id": existing.id if existing else p.id,
            "name": name if name is not None else (existing.body.get("name") if existing else ctx["name"]),
            "type": existing.body.get("type")
            if existing
            else (profile.type_name or rules.declared_type(self.store, p)),
        }
        out.update(body)
        if profile.provisioning_state:
            props = out.get("properties")
            if not isinstance(props, dict):
                props = out["properties"] = {}
            props["provisioningState"] = state
        for path in profile.omit:
            pop_path(out, path)
        return out, computed

    def _put(
        self, p: ArmPath, profile: Profile, body_in: dict[str, Any], api_version: str, *, rg: bool
    ) -> web.Response:
        existing = self._require(p, "write")
        name = p.resource_group if rg else p.names[-1]
        assert name is not None
        if rg:
            if not body_in.get("location"):
                raise ErrorReply(
                    400, "LocationRequired", "The location property is required for this definition."
                )
        else:
            group = self.store.get(p.rg_id) if p.rg_id else None
            if group is not None and group.provisioning_state() == "Deleting":
                raise ErrorReply(
                    409,
                    "ResourceGroupBeingDeleted",
                    f"The resource group '{p.resource_group}' is in deprovisioning state and cannot "
                    "perform this operation.",
                )
        location = body_in.get("location")
        if isinstance(location, str) and location and not known_location(location):
            raise errors.location_not_available(location, p.full_type, sorted(REGION_DISPLAY_NAMES))
        if profile.name_rule is not None and not name_matches(profile.name_rule, name):
            rule = profile.name_rule
            raise ErrorReply(rule.status, rule.code, rule.refusal(name))
        if existing is None and profile.globally_unique is not None:
            code, status, message = profile.globally_unique
            for other in self.store.by_type(p.full_type):
                if (
                    other.body.get("name", "").lower() == name.lower()
                    or other.id.rsplit("/", 1)[-1].lower() == name.lower()
                ):
                    raise ErrorReply(status, code, message.format(name=name))
        parent = self.store.get(p.parent_id) if len(p.names) > 1 else None
        rules.check_values(self.store, profile, p, body_in, name, parent.body if parent is not None else None)
        rules.refuse_if_busy(self.operations, existing, profile, "PUT", body_in)
        sent = copy_json(body_in)
        request_body, hidden = strip_request(body_in, profile)
        if existing is not None:
            immutable = dict(profile.immutable)
            immutable.setdefault("location", DEFAULT_LOCATION_RULE)
            for path, (status, code, message) in immutable.items():
                old, new = get_path(existing.body, path), get_path(request_body, path)
                if values_differ(path, old, new):
                    raise ErrorReply(
                        status,
                        code,
                        message.format(name=name, old=old, new=new, resourceGroup=p.resource_group or ""),
                    )
        ctx = self._context(p, request_body.get("location"), existing)
        spec = profile.put
        if existing is not None and spec.update_sync:
            spec = replace(spec, mode="sync")
        failure = self.faults.take_failure("PUT", p.full_type)
        if failure is not None and not spec.is_async:
            raise ErrorReply(failure.status, failure.code, failure.message)
        state = "Succeeded" if not spec.is_async else ("Updating" if existing else spec.creating_state)
        body, computed = self._build(p, profile, request_body, existing, ctx, state)
        secrets_ = dict(existing.secrets) if existing else {s: new_key() for s in profile.secrets}
        secrets_.update(hidden)
        res = StoredResource(
            id=body["id"],
            type=existing.type if existing else p.full_type,
            body=body,
            created_at=ctx["created"],
            computed=computed,
            secrets=secrets_,
        )
        self.store.put(res)
        status = spec.create_status if existing is None else spec.update_status
        if not spec.is_async:
            return json_response(status, body)
        op = self._start(res, p, "put", spec, api_version, failure, prior=None)
        res.operation_request = sent
        return self._accepted(op, spec, status, body)

    def _start(
        self,
        res: StoredResource,
        p: ArmPath,
        kind: str,
        spec: LroSpec,
        api_version: str,
        failure: Any,
        prior: str | None,
        subscription_level: bool = False,
    ) -> AsyncOperation:
        location = res.body.get("location") or self._context(p, None, res).get("location") or "global"
        op = self.operations.start(
            kind=kind,
            resource_id=res.id,
            resource_type=res.type,
            subscription=p.subscription,
            namespace=p.namespace or "Microsoft.Resources",
            location=str(location),
            api_version=api_version,
            polls=spec.polls,
            delay=spec.delay,
            # The emulator-wide value (tests: 0) wins over every profile and run-time setting that
            # sends a Retry-After; one that sends none stays so (that is behaviour, not speed).
            retry_after=(
                spec.retry_after
                if self.config.retry_after is None or spec.retry_after is None
                else self.config.retry_after
            ),
            fail_with={"code": failure.code, "message": failure.message} if failure is not None else None,
            fail_status=failure.status if failure is not None else 400,
            prior_state=prior,
            subscription_level=subscription_level,
            poll_on_get=not spec.headers,
        )
        res.operation_id = op.id
        if op.polls_needed == 0:
            self.operations.check(op)
        return op

    def _accepted(
        self, op: AsyncOperation, spec: LroSpec, status: int, body: dict[str, Any] | None
    ) -> web.Response:
        headers = retry_header(op)
        for h in spec.headers:
            if h.lower() == "azure-asyncoperation":
                headers["Azure-AsyncOperation"] = (
                    f"{self.endpoint}{op.status_path()}?api-version={op.api_version}"
                )
            elif h.lower() == "location":
                headers["Location"] = f"{self.endpoint}{op.result_path()}?api-version={op.api_version}"
        if status == 202 or body is None:
            if spec.accepted_body == "resource" and body is not None:
                return json_response(status, body, headers)
            if spec.accepted_body == "operation":
                return json_response(
                    status,
                    {"operation": spec.operation_name or "Upsert", "startTime": op.start_time},
                    headers,
                )
            return web.Response(status=status, headers=headers)
        return json_response(status, body, headers)

    def _patch(
        self, p: ArmPath, profile: Profile, body_in: dict[str, Any], api_version: str, *, rg: bool
    ) -> web.Response:
        existing = self._require(p, "write")
        if existing is None:
            if rg:
                raise errors.resource_group_not_found(p.resource_group or "")
            raise errors.resource_not_found(self._describe(p), p.resource_group)
        name = p.names[-1] if p.names else p.resource_group or ""
        rules.check_values(self.store, profile, p, body_in, name, None)
        rules.refuse_if_busy(self.operations, existing, profile, "PATCH")
        request_body, hidden = strip_request(body_in, profile)
        for path, (status, code, message) in profile.immutable.items():
            old, new = get_path(existing.body, path), get_path(request_body, path)
            if values_differ(path, old, new):
                raise ErrorReply(
                    status,
                    code,
                    message.format(
                        name=p.names[-1] if p.names else p.resource_group,
                        old=old,
                        new=new,
                        resourceGroup=p.resource_group or "",
                    ),
                )
        spec = profile.patch
        failure = self.faults.take_failure("PATCH", p.full_type)
        if failure is not None and not spec.is_async:
            raise ErrorReply(failure.status, failure.code, failure.message)
        body = merge_patch(existing.body, request_body)
        normalise(body, profile)
        body = deep_merge(body, existing.computed)
        for path in profile.omit:
            pop_path(body, path)
        if profile.provisioning_state:
            props = body.setdefault("properties", {})
            props["provisioningState"] = "Updating" if spec.is_async else "Succeeded"
        existing.body = body
        existing.secrets.update(hidden)
        self.store.touch()
        if not spec.is_async:
            return json_response(spec.update_status, body)
        op = self._start(existing, p, "patch", spec, api_version, failure, prior=None)
        return self._accepted(op, spec, spec.update_status, body)

    def _delete(self, p: ArmPath, profile: Profile, api_version: str, *, rg: bool) -> web.Response:
        existing = self.store.get(p.id) if rg else self._require(p, "delete")
        if existing is None:
            if rg:
                raise errors.resource_group_not_found(p.resource_group or "")
            return web.Response(status=204)
        if profile.delete_blocked is not None:
            blocked = any(
                self.store.children(existing.id, f"{existing.type}/{c}")
                for c in profile.delete_blocked_by_children
            )
            if not blocked and profile.delete_blocked_by_references:
                k = ids.key(existing.id)
                blocked = any(
                    isinstance(v := get_path(other.body, ref), str) and ids.key(v) == k
                    for other in self.store.all()
                    for ref in profile.delete_blocked_by_references
                )
            if not blocked and existing.operation_id:
                # A follow-up (Redis unlinking) still holds the link.
                running = self.operations.get(existing.operation_id)
                blocked = running is not None and not running.done and running.kind == "follow-up"
            if blocked:
                status, code, message = profile.delete_blocked
                raise ErrorReply(status, code, message.format(name=existing.body.get("name", "")))
        rules.refuse_if_busy(self.operations, existing, profile, "DELETE")
        spec = profile.delete
        running = self.operations.get(existing.operation_id) if existing.operation_id else None
        if running is not None and not running.done and running.kind == "delete" and spec.is_async:
            # Deleting again joins the running delete: the client asking again is a poll of it (the
            # emulator has no clock), answered as the operation stands.
            self.operations.poll(running)
            if self.store.get(existing.id) is None:
                return web.Response(status=204)
            return self._accepted(running, spec, spec.status if spec.status != 200 else 202, None)
        failure = self.faults.take_failure("DELETE", p.full_type)
        if not spec.is_async:
            if failure is not None:
                raise ErrorReply(failure.status, failure.code, failure.message)
            rules.start_follow_up(self.store, self.operations, existing, profile)
            self.store.delete_tree(existing.id)
            return web.Response(status=spec.status)
        prior = existing.provisioning_state()
        existing.set_provisioning_state("Deleting")
        op = self._start(
            existing, p, "delete", spec, api_version, failure, prior=prior, subscription_level=rg
        )
        status = spec.status if spec.status != 200 else 202
        return self._accepted(op, spec, status, None)

    def _operation_completed(self, op: AsyncOperation) -> None:
        res = self.store.get(op.resource_id)
        if res is None or res.operation_id != op.id:
            return
        res.operation_id = None
        res.operation_request = None
        if op.kind == "delete":
            if op.status == "Succeeded":
                rules.start_follow_up(
                    self.store,
                    self.operations,
                    res,
                    self.profiles.get(res.type).resolve(op.api_version, res.body),
                )
                self.store.delete_tree(res.id)
            elif op.prior_state:
                res.set_provisioning_state(op.prior_state)
        elif op.kind == "follow-up":
            res.set_provisioning_state(op.prior_state or "Succeeded")
        else:
            res.set_provisioning_state("Succeeded" if op.status == "Succeeded" else "Failed")
        self.store.touch()

    def _poll(self, caller: Caller, segs: list[str], api_version: str) -> web.Response:
        op = self.operations.get(segs[-1])
        if op is None:
            raise ErrorReply(404, "OperationNotFound", f"The operation '{segs[-1]}' could not be found.")
        if not self.identity.may_use(caller, op.subscription):
            raise errors.authorization_failed(
                caller.client_id, "Microsoft.Resources/operations/read", f"/subscriptions/{op.subscription}"
            )
        self.operations.poll(op)
        retry = retry_header(op)
        if segs[-2].lower() == STATUS_SEGMENT.lower() and not op.subscription_level:
            return json_response(200, op.status_document(), None if op.done else retry)
        if not op.done:
            return web.Response(
                status=202,
                headers={
                    **retry,
                    "Location": f"{self.endpoint}{op.result_path()}?api-version={op.api_version}",
                },
            )
        if op.status == "Failed":
            return json_response(op.fail_status, {"error": op.error})
        if op.kind in ("put", "patch"):
            res = self.store.get(op.resource_id)
            return json_response(200, res.body) if res is not None else web.Response(status=200)
        return web.Response(status=200)

    async def _action(self, request: web.Request, p: ArmPath) -> web.Response:
        action = (p.trailing or "").lower()
        target = _owner(p)
        res = self._require(target, "action", must_exist=True)
        assert res is not None
        profile = self.profiles.get(target.full_type)
        spec = profile.actions.get(action)
        if spec is None:
            raise ErrorReply(
                404,
                "InvalidResourceType",
                f"The resource type '{p.full_type}' could not be found in the namespace '{p.namespace}'.",
            )
        body = await self._read_json(request)
        if spec.regenerate:
            which = str(body.get(spec.regenerate, ""))
            secret = spec.regenerate_map.get(which) or spec.regenerate_map.get(which.lower())
            if secret is None:
                raise ErrorReply(
                    400, "InvalidRequestContent", f"'{which}' is not a valid value for {spec.regenerate}."
                )
            res.secrets[secret] = new_key()
            self.store.touch()
        ctx = self._context(target, res.body.get("location"), res)
        ctx["secret"] = res.secrets
        return json_response(200, render(spec.response, ctx))

    # Used by the control API -------------------------------------------------------------

    def set_lro(self, full_type: str, method: str, **values: Any) -> LroSpec:
        base: LroSpec = getattr(self.profiles.get(full_type), method.lower())
        if "headers" in values:
            values["headers"] = tuple(values["headers"])
        spec = replace(base, **values)
        self.profiles.override_lro(full_type, method, spec)
        return spec


def _top_level(resource_id: str) -> bool:
    parsed = ids.parse(resource_id)
    return parsed is not None and len(parsed.names) == 1


def _owner(p: ArmPath) -> ArmPath:
    """The resource a collection or action path hangs below."""
    return replace(p, types=p.types[:-1], trailing=None)
