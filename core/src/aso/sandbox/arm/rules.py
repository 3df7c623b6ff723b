"""Rules a provider holds requests to beyond the shape of a body.

Documented value ranges and refused combinations (``values``), the answer to a write while the
previous operation runs (``busy``), a provider's own 404 for a missing child (``not_found``), how a
type without a profile is spelled (its parent's declared casing), and the work a delete leaves on
other resources (``after_delete``: Redis unlinking). Each reads the resolved profile of the
request's API version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import errors, ids
from .bodies import get_path
from .errors import ErrorReply
from .ids import ArmPath
from .lro import Operations
from .profiles import Profile
from .store import Store, StoredResource


def not_found(p: ArmPath, profile: Profile, described: str) -> ErrorReply:
    """A 404 for a missing resource: the provider's own code where it has one."""
    if profile.not_found is not None:
        code, message = profile.not_found
        parent = p.names[-2] if len(p.names) > 1 else ""
        return ErrorReply(
            404,
            code,
            message.format(
                name=p.names[-1] if p.names else "", parentName=parent, resourceGroup=p.resource_group or ""
            ),
        )
    return errors.resource_not_found(described, p.resource_group)


def declared_type(store: Store, p: ArmPath) -> str:
    """A type without a profile, spelled as its parent's type is declared (a child of
    ``Microsoft.Cache/Redis`` is ``Microsoft.Cache/Redis/privateEndpointConnections``)."""
    if len(p.types) > 1:
        parent = store.get(p.parent_id)
        if parent is not None and isinstance(parent.body.get("type"), str):
            return f"{parent.body['type']}/{p.types[-1]}"
    return p.full_type


def check_values(
    store: Store, profile: Profile, p: ArmPath, body: dict[str, Any], name: str, parent: dict[str, Any] | None
) -> None:
    """What the profile's rules (``values``) refuse: a value outside its documented range, or a
    combination (400 with the provider's code). Rules ``of_parent`` read the stored ``parent``'s
    body (skipped without one); rules with an ``ancestor`` need that ancestor's state."""
    for rule in profile.values:
        source = parent if rule.of_parent else body
        if source is None or not rule.applies(source) or not rule.has_present(body):
            continue
        if rule.ancestor is not None:
            ancestor = _ancestor(store, p, rule.ancestor)
            if ancestor is None or not rule.matches_ancestor(ancestor.body):
                continue
        value = get_path(source, rule.path) if rule.path else None
        if rule.path and (value is None or rule.accepts(value)):
            continue
        path = rule.path or (rule.present[0] if rule.present else "")
        raise ErrorReply(
            rule.status,
            rule.code,
            rule.message.format(path=path, name=name, value="" if value is None else value),
        )


def _ancestor(store: Store, p: ArmPath, arm_type: str) -> StoredResource | None:
    """The stored ancestor of ``p`` whose type is ``arm_type`` (compared without case)."""
    namespace, _, rest = arm_type.partition("/")
    wanted = tuple(t.lower() for t in rest.split("/"))
    if (p.namespace or "").lower() != namespace.lower() or len(wanted) >= len(p.types):
        return None
    if tuple(t.lower() for t in p.types[: len(wanted)]) != wanted:
        return None
    parts = [p.scope_id, "providers", p.namespace or namespace]
    for type_, name in zip(p.types[: len(wanted)], p.names[: len(wanted)], strict=True):
        parts += [type_, name]
    return store.get("/".join(parts))


def refuse_if_busy(
    operations: Operations,
    existing: StoredResource | None,
    profile: Profile,
    method: str,
    request: dict[str, Any] | None = None,
) -> None:
    """ARM's 409 for a write on a resource whose previous operation still runs.

    Repeating the PUT that started the operation is an idempotent retry (ARM requires PUT to
    be idempotent; clients resend it after a timeout) and is accepted.
    """
    if existing is None or not existing.operation_id:
        return
    running = operations.get(existing.operation_id)
    if running is None or running.done:
        return
    if method == "PUT" and running.kind == "put" and request == existing.operation_request:
        return
    if method == "DELETE" and profile.busy.delete_allowed and running.kind != "delete":
        return
    if method == "DELETE" and running.kind == "delete":
        return  # deleting again joins the running delete
    busy = profile.busy
    raise ErrorReply(
        busy.status,
        busy.code,
        busy.message.format(name=existing.id.rsplit("/", 1)[-1], type=existing.type, id=existing.id),
    )


def refuse_if_parent_busy(
    store: Store, operations: Operations, profile_of: Callable[[str], Profile], p: ArmPath
) -> None:
    """A write to a child of a resource being created or updated, where the parent's profile
    says its children are refused meanwhile (``busy.children``): the parent's busy answer."""
    depth = len(p.names) - 1
    parent_id = p.id
    for _ in range(depth):
        parent_id = parent_id.rsplit("/", 2)[0]
        parent = store.get(parent_id)
        if parent is None or not parent.operation_id:
            continue
        running = operations.get(parent.operation_id)
        if running is not None:
            operations.check(running)
        busy = profile_of(parent.type).busy
        if running is not None and not running.done and running.kind in ("put", "patch") and busy.children:
            name = parent.id.rsplit("/", 1)[-1]
            raise ErrorReply(
                busy.status, busy.code, busy.message.format(name=name, type=parent.type, id=parent.id)
            )


def start_follow_up(store: Store, operations: Operations, deleted: StoredResource, profile: Profile) -> None:
    """Start the work a delete leaves on another resource (``after_delete``), if any."""
    follow = profile.after_delete
    if follow is None:
        return
    targets: list[tuple[str, int]] = []
    other_id = get_path(deleted.body, follow.reference)
    if isinstance(other_id, str):
        targets.append((other_id, follow.polls))
    mine = ids.parse(deleted.id)
    if follow.parent_polls is not None and mine is not None and len(mine.names) > 1:
        targets.append((mine.parent_id, follow.parent_polls))
    for target_id, polls in targets:
        other = store.get(target_id)
        q = ids.parse(target_id)
        if other is None or other.operation_id or q is None:
            continue
        op = operations.start(
            kind="follow-up",
            resource_id=other.id,
            resource_type=other.type,
            subscription=q.subscription,
            namespace=q.namespace or "Microsoft.Resources",
            location=str(other.body.get("location") or "global"),
            api_version="",
            polls=polls,
            delay=0.0,
            retry_after=0.0,
            prior_state=other.provisioning_state(),
            poll_on_get=True,
        )
        other.operation_id = op.id
        other.set_provisioning_state(follow.state)
    store.touch()
