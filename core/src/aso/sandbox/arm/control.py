"""Control API of the ARM emulator, under ``/_emulator/`` on the emulator's own port.

Loopback only and unauthenticated: tests (in this process or another) use it to add
principals and subscriptions, inject faults, make operations fail, change resources out of
band (drift), read request counts and reset the emulator. ``aso.testing.arm.ArmControlClient``
is its typed client; the routes are:

==========  ===============================  =================================================
GET         /_emulator/info                  endpoint, CA file, default principal
POST        /_emulator/reset                 forget resources, operations, faults, counts
GET/POST    /_emulator/principals            list / add or replace a principal
DELETE      /_emulator/principals/{client}   remove a principal (its tokens stop working)
POST        /_emulator/subscriptions         add a subscription (to a principal when given)
GET/POST    /_emulator/faults                list / arm a fault rule
DELETE      /_emulator/faults                disarm every fault and failure rule
GET/POST    /_emulator/failures              list / make the next operation(s) of a type fail
PUT         /_emulator/lro                   how a type's PUT/PATCH/DELETE completes
GET         /_emulator/counts                request counts by method and resource type
DELETE      /_emulator/counts                reset the counts
GET         /_emulator/resources             every stored resource (``?type=`` filters)
GET/PUT/    /_emulator/resource?id=          read / replace (PUT) / merge-patch (PATCH) /
PATCH/DEL                                    delete a resource out of band (drift)
GET         /_emulator/operations            every operation and its state
==========  ===============================  =================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .auth import Principal
from .bodies import merge_patch
from .faults import FailureRule, FaultRule
from .profiles import LroSpec

if TYPE_CHECKING:
    from .server import ArmEmulator

PREFIX = "/_emulator"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _json(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/json")


def _bad(message: str, status: int = 400) -> web.Response:
    return _json(status, {"error": {"code": "BadControlRequest", "message": message}})


def add_control_routes(app: web.Application, emu: ArmEmulator) -> None:
    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

    def guard(handler: Handler) -> Handler:
        # A wrapper per control route (not a middleware) so ARM requests pay nothing for it.
        async def wrapped(request: web.Request) -> web.StreamResponse:
            if request.remote not in LOOPBACK:
                return _bad("the control API answers loopback clients only", 403)
            try:
                return await handler(request)
            except (KeyError, TypeError, ValueError) as exc:
                return _bad(f"{type(exc).__name__}: {exc}")

        return wrapped

    async def body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    def principal_view(p: Principal) -> dict[str, Any]:
        return p.to_dict()

    async def info(request: web.Request) -> web.Response:
        p = emu.default_principal
        return _json(
            200,
            {
                "endpoint": emu.endpoint,
                "ca_bundle": str(emu.ca_path),
                "tenant_id": p.tenant_id,
                "client_id": p.client_id,
                "client_secret": p.client_secret,
                "subscription_id": emu.default.subscription_id,
                "resources": len(emu.store),
            },
        )

    async def reset(request: web.Request) -> web.Response:
        emu.reset()
        return _json(200, {"reset": True})

    async def list_principals(request: web.Request) -> web.Response:
        return _json(200, {"value": [principal_view(p) for p in emu.identity.principals()]})

    async def add_principal(request: web.Request) -> web.Response:
        data = await body(request)
        data.setdefault("tenant_id", emu.default.tenant_id)
        p = Principal.from_dict(data)
        emu.identity.add_principal(p)
        emu.mark_identity_dirty()
        return _json(201, principal_view(p))

    async def remove_principal(request: web.Request) -> web.Response:
        client = request.match_info["client_id"]
        tenant = request.query.get("tenant_id", emu.default.tenant_id)
        emu.identity.remove_principal(tenant, client)
        emu.mark_identity_dirty()
        return web.Response(status=204)

    async def add_subscription(request: web.Request) -> web.Response:
        data = await body(request)
        sub = str(data["subscription_id"])
        tenant = str(data.get("tenant_id") or emu.default.tenant_id)
        emu.identity.add_subscription(sub, tenant, data.get("display_name"))
        for client in data.get("principals") or []:
            emu.identity.grant(tenant, str(client), [sub])
        emu.mark_identity_dirty()
        return _json(201, emu.identity.subscriptions[sub.lower()])

    async def list_faults(request: web.Request) -> web.Response:
        return _json(200, {"value": [r.to_dict() for r in emu.faults.rules]})

    async def add_fault(request: web.Request) -> web.Response:
        data = await body(request)
        rule = FaultRule(**{k: v for k, v in data.items() if k not in ("id", "hits")})
        emu.faults.rules.append(rule)
        return _json(201, rule.to_dict())

    async def clear_faults(request: web.Request) -> web.Response:
        emu.faults.clear()
        return web.Response(status=204)

    async def list_failures(request: web.Request) -> web.Response:
        return _json(200, {"value": [r.to_dict() for r in emu.faults.failures]})

    async def add_failure(request: web.Request) -> web.Response:
        data = await body(request)
        rule = FailureRule(**{k: v for k, v in data.items() if k != "id"})
        rule.method = rule.method.upper()
        emu.faults.failures.append(rule)
        return _json(201, rule.to_dict())

    async def set_lro(request: web.Request) -> web.Response:
        data = await body(request)
        full_type = str(data.pop("type"))
        method = str(data.pop("method", "PUT")).lower()
        if method not in ("put", "patch", "delete"):
            raise ValueError("method must be PUT, PATCH or DELETE")
        allowed = set(LroSpec.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown LRO settings {sorted(unknown)}")
        spec = emu.set_lro(full_type, method, **data)
        return _json(200, {"type": full_type, "method": method.upper(), **vars(spec)})

    async def counts(request: web.Request) -> web.Response:
        return _json(200, emu.faults.counts_dict())

    async def reset_counts(request: web.Request) -> web.Response:
        emu.faults.reset_counts()
        return web.Response(status=204)

    async def resources(request: web.Request) -> web.Response:
        t = request.query.get("type")
        items = [
            {"id": r.id, "type": r.type, "body": r.body}
            for r in emu.store.all()
            if t is None or r.type.lower() == t.lower()
        ]
        return _json(200, {"value": items})

    async def resource(request: web.Request) -> web.Response:
        rid = request.query["id"]
        res = emu.store.get(rid)
        if res is None:
            return _bad(f"no resource '{rid}'", 404)
        if request.method == "GET":
            return _json(200, res.body)
        if request.method == "DELETE":
            emu.store.delete_tree(res.id)
            return web.Response(status=204)
        data = await body(request)
        if request.method == "PUT":
            # Replace everything but the identity of the resource.
            new = {k: v for k, v in data.items() if k not in ("id", "name", "type")}
            res.body = {
                "id": res.body["id"],
                "name": res.body.get("name"),
                "type": res.body.get("type"),
                **new,
            }
        else:
            patched = merge_patch(res.body, data)
            # ``tags`` merge_patch replaces as a whole, which is also what drift of tags means.
            patched["id"], patched["type"] = res.body["id"], res.body.get("type")
            res.body = patched
        emu.store.touch()
        return _json(200, res.body)

    async def operations(request: web.Request) -> web.Response:
        return _json(200, {"value": emu.operations.dump()})

    r = app.router
    r.add_get(f"{PREFIX}/info", guard(info))
    r.add_post(f"{PREFIX}/reset", guard(reset))
    r.add_get(f"{PREFIX}/principals", guard(list_principals))
    r.add_post(f"{PREFIX}/principals", guard(add_principal))
    r.add_delete(f"{PREFIX}/principals/{{client_id}}", guard(remove_principal))
    r.add_post(f"{PREFIX}/subscriptions", guard(add_subscription))
    r.add_get(f"{PREFIX}/faults", guard(list_faults))
    r.add_post(f"{PREFIX}/faults", guard(add_fault))
    r.add_delete(f"{PREFIX}/faults", guard(clear_faults))
    r.add_get(f"{PREFIX}/failures", guard(list_failures))
    r.add_post(f"{PREFIX}/failures", guard(add_failure))
    r.add_put(f"{PREFIX}/lro", guard(set_lro))
    r.add_get(f"{PREFIX}/counts", guard(counts))
    r.add_delete(f"{PREFIX}/counts", guard(reset_counts))
    r.add_get(f"{PREFIX}/resources", guard(resources))
    r.add_route("*", f"{PREFIX}/resource", guard(resource))
    r.add_get(f"{PREFIX}/operations", guard(operations))
