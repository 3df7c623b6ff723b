"""ARM emulator provider profiles: how the emulated resource provider of one type behaves.

A plugin returns :class:`ArmProfile` values from the hook ``aso_arm_profiles`` (see
:mod:`aso.hookspecs`); the emulator (``aso sandbox``, the test kit's ``arm_emulator``) loads them
at start, after its built-in catalogue, and a plugin's profile overrides a built-in one of the
same type. Everything here is plain, frozen data, validated at load: a profile with a problem is
skipped with one log line naming the plugin, the type and the field; the type then behaves
generically (synchronous PUT that echoes the body).

This module is shared by the plugin host and the emulator; it imports neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aso.common import get_path
from aso.discovery import call_hook, discover
from aso.names import NameRule
from aso.validation import field_problems

__all__ = [
    "ArmAction",
    "ArmBusy",
    "ArmFollowUp",
    "ArmLro",
    "ArmNameRule",
    "ArmOverride",
    "ArmProfile",
    "ArmRefusal",
    "ArmValueRule",
    "ArmVariant",
    "ArmVersion",
    "PluginProfiles",
    "load_plugin_profiles",
]

_LRO_MODES = ("sync", "async")
_LRO_HEADERS = ("Azure-AsyncOperation", "Location")
_ACCEPTED_BODIES = ("empty", "resource", "operation")
_ARM_TYPE = re.compile(r"^[A-Za-z0-9]+\.[A-Za-z0-9.]+(/[A-Za-z0-9]+)+$")


@dataclass(frozen=True, kw_only=True)
class ArmLro:
    """How one method (PUT, PATCH or DELETE) completes for a type.

    ``mode`` ``sync`` answers at once (``create_status``/``update_status``, DELETE ``status``);
    ``async`` starts an operation that completes after ``polls`` status polls and ``delay``
    seconds, announced through ``headers`` (``Azure-AsyncOperation`` and/or ``Location``).
    ``accepted_body`` is what a 202 carries: ``empty``, ``resource`` or ``operation``.
    ``update_sync`` makes updates of an existing resource synchronous (Storage accounts).
    ``creating_state`` is the ``provisioningState`` a create reports while it runs (``Creating``;
    Redis access policies and their assignments say ``Updating``).
    An ``async`` spec without ``headers`` is ARM's "201 + provisioningState" pattern: clients
    poll the resource itself, and each GET of it counts as a poll. ``retry_after`` is the
    ``Retry-After`` seconds of the answers while it runs; ``None`` sends none (some services do
    not, and clients then poll at their own interval).
    """

    mode: str = "sync"
    create_status: int = 201
    update_status: int = 200
    status: int = 200
    headers: tuple[str, ...] = ("Azure-AsyncOperation",)
    polls: int = 1
    delay: float = 0.0
    retry_after: float | None = 1.0
    accepted_body: str = "empty"
    operation_name: str = ""
    update_sync: bool = False
    creating_state: str = "Creating"

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def problems(self) -> list[str]:
        found = []
        if self.mode not in _LRO_MODES:
            found.append(f"mode {self.mode!r}: must be one of {list(_LRO_MODES)}")
        for header in self.headers:
            if header not in _LRO_HEADERS:
                found.append(f"headers: {header!r} must be one of {list(_LRO_HEADERS)}")
        if self.accepted_body not in _ACCEPTED_BODIES:
            found.append(f"accepted_body {self.accepted_body!r}: must be one of {list(_ACCEPTED_BODIES)}")
        if isinstance(self.polls, int) and self.polls < 0:
            found.append(f"polls {self.polls}: must be 0 or more")
        if isinstance(self.retry_after, int | float) and self.retry_after < 0:
            found.append(f"retry_after {self.retry_after}: must be 0 or more, or null (no Retry-After)")
        if not isinstance(self.creating_state, str) or not self.creating_state:
            found.append(f"creating_state {self.creating_state!r}: must be a provisioningState name")
        return found


@dataclass(frozen=True, kw_only=True)
class ArmAction:
    """A POST action such as ``listKeys``. ``response`` is a template (``{name}``,
    ``{secret.primary}``); ``regenerate`` names the request field whose value (mapped through
    ``regenerate_map``) says which secret to replace first (``regenerateKey``)."""

    response: Any = None
    regenerate: str | None = None
    regenerate_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ArmNameRule(NameRule):
    """A kind's :class:`aso.NameRule` (lengths, ``pattern`` for the whole name, and ARM's general
    rule) as the provider enforces it: a name that breaks it is refused with ``status`` ``code``."""

    code: str = "InvalidResourceName"
    #: May use ``{name}`` and ``{invalid}`` (the name's characters ``characters`` does not allow,
    #: each as often and in the order it occurs, as ARM lists them for resource groups).
    message: str = "Resource name '{name}' is invalid."
    status: int = 400
    #: ``reason`` of a ``checkNameAvailability`` answer for such a name.
    availability_reason: str = "Invalid"
    #: A regular expression for one allowed character; with it, a name whose characters are all
    #: allowed but that breaks the rule otherwise (length, last character) gets ``shape_message``.
    characters: str | None = None
    shape_message: str | None = None

    def invalid_characters(self, name: str) -> str:
        """The characters of ``name`` that ``characters`` does not allow (all, without it)."""
        if self.characters is None:
            return ""
        return "".join(c for c in name if re.fullmatch(self.characters, c) is None)

    def refusal(self, name: str) -> str:
        """The provider's message for ``name``, which breaks this rule."""
        invalid = self.invalid_characters(name)
        template = self.shape_message if not invalid and self.shape_message is not None else self.message
        return template.format(name=name, invalid=invalid)


@dataclass(frozen=True, kw_only=True)
class ArmValueRule:
    """A request the provider refuses on PUT and PATCH, with its own error: a value outside a
    documented range, or a combination of values (some with a stored ancestor's state).

    The rule applies when all of its conditions hold (none: always):

    - ``when``: the value at each dotted path is one of the listed ones (a combination the
      provider refuses, e.g. a storage ``kind`` that takes only premium SKUs);
    - ``present``: each dotted path has a value in the request;
    - ``ancestor``/``ancestor_has``: the stored ancestor of that ARM type (e.g.
      ``Microsoft.DocumentDB/databaseAccounts``) holds each value (path -> value): a serverless
      Cosmos DB account has no throughput, so a database sent with one is refused.

    ``of_parent`` reads ``path`` and ``when`` from the stored parent resource instead of the
    request: a child the parent's settings do not support (no queues on a premium account).

    With ``path``, the value there is refused when it is outside ``allowed`` (strings compare
    without case), ``minimum``/``maximum`` (numbers) or ``pattern`` (the whole text); an absent
    value passes; ``multiple_of`` (numbers) refuses a value off its steps. Without ``path``, a
    request that meets the conditions is refused. The answer
    is ``status`` ``code``; ``message`` may use ``{path}`` (``path``, or the first of
    ``present``), ``{name}`` and ``{value}``. Strings compare without case everywhere, and a list
    on a path matches when any item holds the value (``properties.capabilities.name``).
    """

    path: str = ""
    allowed: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: float | None = None
    pattern: str | None = None
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    present: tuple[str, ...] = ()
    of_parent: bool = False
    ancestor: str | None = None
    ancestor_has: Mapping[str, Any] = field(default_factory=dict)
    status: int = 400
    code: str = "InvalidValuesForRequestParameters"
    message: str = "Values for request parameters are invalid: {path}. The value '{value}' is not allowed."

    def applies(self, body: Mapping[str, Any]) -> bool:
        """Whether ``body`` meets every ``when`` condition (always, without conditions)."""
        return all(
            any(_fold(v) in {_fold(w) for w in values} for v in values_at(body, path))
            for path, values in self.when.items()
        )

    def has_present(self, body: Mapping[str, Any]) -> bool:
        """Whether ``body`` has a value at every path of ``present``."""
        return all(values_at(body, path) for path in self.present)

    def matches_ancestor(self, ancestor: Mapping[str, Any]) -> bool:
        """Whether the ancestor's body holds every value of ``ancestor_has``."""
        return all(
            _fold(expected) in {_fold(v) for v in values_at(ancestor, path)}
            for path, expected in self.ancestor_has.items()
        )

    def accepts(self, value: Any) -> bool:
        if self.allowed and _fold(value) not in {_fold(a) for a in self.allowed}:
            return False
        if self.minimum is not None or self.maximum is not None or self.multiple_of is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if self.minimum is not None and value < self.minimum:
                return False
            if self.maximum is not None and value > self.maximum:
                return False
            if self.multiple_of is not None and value % self.multiple_of != 0:
                return False
        if self.pattern is not None:
            return isinstance(value, str) and re.fullmatch(self.pattern, value) is not None
        return True

    def problems(self) -> list[str]:
        found = []
        if not self.path and not self.present and self.ancestor is None:
            found.append(
                "path/present/ancestor: give a property path or the conditions of a refused combination"
            )
        if not isinstance(self.when, Mapping):
            found.append("when: expected a mapping of property paths to allowed values")
        else:
            for path, values in self.when.items():
                if not isinstance(values, tuple) or not values:
                    found.append(f"when[{path!r}]: expected a non-empty tuple of values")
        if self.multiple_of is not None and self.multiple_of <= 0:
            found.append(f"multiple_of {self.multiple_of}: must be above 0")
        if (self.ancestor is None) != (not self.ancestor_has):
            found.append("ancestor/ancestor_has: give both or neither")
        if self.ancestor is not None and not _ARM_TYPE.match(self.ancestor):
            found.append(f"ancestor {self.ancestor!r}: must look like 'Microsoft.Provider/type[/child]'")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                found.append(f"pattern {self.pattern!r}: not a regular expression: {exc}")
        return found


#: The name the combination rules had before they were one type with the value rules; kept
#: because plugins outside this repository may import it.
ArmRefusal = ArmValueRule


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def values_at(body: Any, path: str) -> list[Any]:
    """Every value at a dotted path; a list on the way is looked into item by item
    (``properties.capabilities.name`` is the name of each capability)."""
    found: list[Any] = [body]
    for part in path.split("."):
        step: list[Any] = []
        for current in found:
            items = current if isinstance(current, list) else [current]
            step += [item[part] for item in items if isinstance(item, Mapping) and part in item]
        found = step
    flat: list[Any] = []
    for value in found:
        flat += value if isinstance(value, list) else [value]
    return [v for v in flat if v is not None]


@dataclass(frozen=True, kw_only=True)
class ArmBusy:
    """ARM's answer to a write on a resource whose previous operation still runs.

    ``message`` may use ``{name}``, ``{type}`` and ``{id}``. ``delete_allowed``: a DELETE is
    accepted during a running create or update (ARM's default: the provider cancels or queues
    the create; the operator deletes a resource whose creation takes long). ``children``: while
    this resource is being created or updated, writes to its child resources get the same answer
    (Redis refuses firewall rules, patch schedules and links of a cache that is still creating).
    """

    status: int = 409
    code: str = "AnotherOperationInProgress"
    message: str = (
        "Another operation on this or dependent resource is in progress. To retrieve status of the "
        "operation use uri: {id}."
    )
    delete_allowed: bool = True
    children: bool = False


@dataclass(frozen=True, kw_only=True)
class ArmFollowUp:
    """Work the provider goes on doing on another resource after this one's delete completed.

    Redis: once a linked server is deleted, the linked (secondary) cache named by
    ``properties.linkedRedisCacheId`` is ``Unlinking`` for a while, and refuses to be deleted
    (its ``delete_blocked`` error) until that ends. ``reference`` is the dotted path of the other
    resource's id in this resource's body. The emulator has no clock for such work: it ends
    after ``polls`` requests on that resource (reads and refused writes alike), as a client
    that retries sees it. ``parent_polls``: the parent resource goes through the same for that
    many requests (Redis 2020-12-01 unlinks both caches after answering 204).
    """

    reference: str
    state: str
    polls: int = 1
    parent_polls: int | None = None

    def problems(self) -> list[str]:
        found = []
        if not self.reference:
            found.append("reference: must name a property path")
        if isinstance(self.polls, int) and self.polls < 0:
            found.append(f"polls {self.polls}: must be 0 or more")
        return found


@dataclass(frozen=True, kw_only=True)
class ArmOverride:
    """What differs from the base profile for some API versions or some bodies.

    ``put``/``patch``/``delete`` replace the base's; ``defaults``, ``computed``, ``set`` and
    ``normalise`` are merged over the base's (nested mappings, deep); ``read_only`` and ``omit``
    are added to the base's. ``omit`` lists dotted paths never returned (Redis 2020-12-01 has no
    ``properties.updateChannel``).
    """

    put: ArmLro | None = None
    patch: ArmLro | None = None
    delete: ArmLro | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    computed: Mapping[str, Any] = field(default_factory=dict)
    set: Mapping[str, Any] = field(default_factory=dict)
    normalise: Mapping[str, Any] = field(default_factory=dict)
    read_only: tuple[str, ...] = ()
    omit: tuple[str, ...] = ()
    after_delete: ArmFollowUp | None = None

    def problems(self) -> list[str]:
        found = []
        if self.after_delete is not None:
            found += [f"after_delete.{p}" for p in self.after_delete.problems()]
        for name in ("put", "patch", "delete"):
            spec = getattr(self, name)
            if spec is not None:
                found += [f"{name}.{p}" for p in spec.problems()]
        return found


@dataclass(frozen=True, kw_only=True)
class ArmVersion(ArmOverride):
    """Overrides for the API versions from ``since`` to ``until`` (both inclusive, either open).

    API versions compare as text (``2020-12-01`` < ``2023-08-01`` < ``2024-11-01``; a preview
    sorts after its date's stable version).
    """

    since: str | None = None
    until: str | None = None

    def applies(self, api_version: str) -> bool:
        v = api_version.lower()
        return (self.since is None or v >= self.since.lower()) and (
            self.until is None or v <= self.until.lower() or v.startswith(self.until.lower())
        )

    def problems(self) -> list[str]:
        found = super().problems()
        if self.since is None and self.until is None:
            found.append("since/until: give at least one API version")
        return found


@dataclass(frozen=True, kw_only=True)
class ArmVariant(ArmOverride):
    """Overrides for bodies that match ``when`` (dotted path -> value; strings compare without
    case) and have a value at every path of ``present``: a Cosmos DB account of ``kind: MongoDB``
    has a ``mongoEndpoint``; an autoscale offer (``properties.resource.autoscaleSettings.maxThroughput``
    present) reports a minimum of 1000 RU/s."""

    when: Mapping[str, Any] = field(default_factory=dict)
    present: tuple[str, ...] = ()

    def applies(self, body: Mapping[str, Any]) -> bool:
        if not all(values_at(body, path) for path in self.present):
            return False
        for path, expected in self.when.items():
            current = get_path(body, path)
            if isinstance(expected, str) and isinstance(current, str):
                if expected.lower() != current.lower():
                    return False
            elif current != expected:
                return False
        return True

    def problems(self) -> list[str]:
        found = super().problems()
        if not self.when and not self.present:
            found.append("when/present: give at least one property path")
        return found


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True, kw_only=True)
class ArmProfile:
    """Behaviour of one resource type (``type`` is ``Namespace/type[/child...]``).

    Values in ``defaults``/``computed``/``set`` are nested mappings of the ARM body
    (``{"properties": {"endpoint": "https://{name}.example"}}``); paths in ``read_only``,
    ``write_only``, ``immutable`` are dotted (``properties.endpoint``).
    """

    type: str
    #: How ``type`` is spelled in bodies; defaults to the casing of the creating request.
    type_name: str | None = None
    put: ArmLro = ArmLro()
    patch: ArmLro = ArmLro(create_status=200)
    delete: ArmLro = ArmLro(status=200)
    #: Whether the provider reports ``properties.provisioningState``.
    provisioning_state: bool = True
    #: Server-side defaults, re-applied when a PUT leaves them out.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: Read-only values generated once at creation.
    computed: Mapping[str, Any] = field(default_factory=dict)
    #: Values always set, whatever the client sends.
    set: Mapping[str, Any] = field(default_factory=dict)
    #: Input the provider ignores (server-owned).
    read_only: tuple[str, ...] = ()
    #: Input never returned (passwords).
    write_only: tuple[str, ...] = ()
    #: Value normalisation as the provider returns it, e.g. ``{"location": "display"}``.
    normalise: Mapping[str, Any] = field(default_factory=dict)
    name_rule: ArmNameRule | None = None
    #: What the provider refuses on PUT and PATCH: documented value ranges of the body, and
    #: combinations (with an ancestor's state, or not).
    values: tuple[ArmValueRule, ...] = ()
    #: The older place of the combination rules (:data:`ArmRefusal`), kept for plugins outside
    #: this repository: they are moved to the end of ``values`` at construction.
    refusals: tuple[ArmValueRule, ...] = ()
    #: Names unique across all of Azure: ``(code, status, message template)``.
    globally_unique: tuple[str, int, str] | None = None
    #: Properties that cannot change: path -> ``(status, code, message)``.
    immutable: Mapping[str, tuple[int, str, str]] = field(default_factory=dict)
    #: Secrets generated at creation, used by actions (``{secret.primary}``).
    secrets: tuple[str, ...] = ()
    #: POST actions by name (``listKeys``; matched case-insensitively).
    actions: Mapping[str, ArmAction] = field(default_factory=dict)
    #: DELETE is refused (``delete_blocked``: status, code, message) while the resource has
    #: children of these types, or while another resource refers to it through these properties.
    delete_blocked_by_children: tuple[str, ...] = ()
    delete_blocked_by_references: tuple[str, ...] = ()
    delete_blocked: tuple[int, str, str] | None = None
    #: What a child type answers when its resource group is gone, by verb (``read``, ``write``,
    #: ``delete``, ``action``; ``*`` for all).
    orphan_error: Mapping[str, str] = field(default_factory=dict)
    #: What a child answers (by verb, ``*`` for all) when its parent resource is gone but its
    #: group exists: ``ParentResourceNotFound`` (ARM's and Storage's) or ``ResourceNotFound``
    #: (Redis patch schedules, firewall rules, linked servers).
    parent_missing_error: Mapping[str, str] = field(default_factory=dict)
    #: The answer to a write while the resource's previous operation still runs.
    busy: ArmBusy = ArmBusy()
    #: Work that goes on on another resource once a delete of this one completed.
    after_delete: ArmFollowUp | None = None
    #: The provider's own 404 for a missing resource of this type whose parent exists:
    #: ``(code, message)``; ``message`` may use ``{name}``, ``{parentName}`` and ``{resourceGroup}``
    #: (Storage: ``QueueNotFound``, ``ContainerNotFound``). None: ARM's ``ResourceNotFound``.
    not_found: tuple[str, str] | None = None
    #: Paths never returned (usually set by a version or variant override).
    omit: tuple[str, ...] = ()
    #: Overrides per API version, applied in order to the versions they cover.
    versions: tuple[ArmVersion, ...] = ()
    #: Overrides for bodies of one variant of the type (``kind``), applied after the versions.
    variants: tuple[ArmVariant, ...] = ()
    #: Where the profile came from (``builtin:<file>``, ``plugin:<name>``); set by the loader.
    source: str = "builtin"

    def __post_init__(self) -> None:
        if isinstance(self.values, tuple) and isinstance(self.refusals, tuple) and self.refusals:
            object.__setattr__(self, "values", (*self.values, *self.refusals))
            object.__setattr__(self, "refusals", ())

    def problems(self) -> list[str]:
        """Everything wrong with this profile, each naming the field; empty when valid."""
        found = field_problems(self)
        if found:
            return found
        if not _ARM_TYPE.match(self.type):
            found.append(f"type {self.type!r}: must look like 'Microsoft.Provider/type[/child]'")
        for name in ("put", "patch", "delete"):
            found += [f"{name}.{p}" for p in getattr(self, name).problems()]
        if self.after_delete is not None:
            found += [f"after_delete.{p}" for p in self.after_delete.problems()]
        for i, rule in enumerate(self.values):
            found += [f"values[{i}].{p}" for p in rule.problems()]
        for i, version in enumerate(self.versions):
            found += [f"versions[{i}].{p}" for p in version.problems()]
        for i, variant in enumerate(self.variants):
            found += [f"variants[{i}].{p}" for p in variant.problems()]
        if self.name_rule is not None and self.name_rule.pattern is not None:
            try:
                re.compile(self.name_rule.pattern)
            except re.error as exc:
                found.append(f"name_rule.pattern {self.name_rule.pattern!r}: not a regular expression: {exc}")
        return found

    def resolve(self, api_version: str | None, body: Mapping[str, Any] | None = None) -> ArmProfile:
        """This profile as it behaves for one API version and one body (versions, then variants)."""
        chosen: list[ArmOverride] = [v for v in self.versions if api_version and v.applies(api_version)]
        if body is not None:
            chosen += [v for v in self.variants if v.applies(body)]
        if not chosen:
            return self
        from dataclasses import replace

        resolved = replace(self, versions=(), variants=())
        for o in chosen:
            resolved = replace(
                resolved,
                put=o.put or resolved.put,
                patch=o.patch or resolved.patch,
                delete=o.delete or resolved.delete,
                defaults=_deep_merge(resolved.defaults, o.defaults),
                computed=_deep_merge(resolved.computed, o.computed),
                set=_deep_merge(resolved.set, o.set),
                normalise={**resolved.normalise, **o.normalise},
                read_only=resolved.read_only + o.read_only,
                omit=resolved.omit + o.omit,
                after_delete=o.after_delete or resolved.after_delete,
            )
        return resolved


@dataclass(frozen=True, kw_only=True)
class PluginProfiles:
    """What the plugins' ``aso_arm_profiles`` hooks gave: valid profiles and the problems found."""

    by_plugin: Mapping[str, tuple[ArmProfile, ...]]
    problems: tuple[tuple[str, str], ...]
    """``(plugin, message)`` for every profile (or hook) that was skipped."""

    @property
    def profiles(self) -> list[ArmProfile]:
        return [p for profiles in self.by_plugin.values() for p in profiles]


def validate_profiles(plugin: str, items: Iterable[Any]) -> tuple[list[ArmProfile], list[str]]:
    """Split one plugin's hook results into valid profiles (source set) and problem messages."""
    from dataclasses import replace

    valid: list[ArmProfile] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, ArmProfile):
            problems.append(
                f"aso_arm_profiles item {index} is {type(item).__name__}, expected aso.ArmProfile"
            )
            continue
        found = item.problems()
        if found:
            problems.append(f"ARM profile {item.type!r} skipped: " + "; ".join(found))
            continue
        # Action names are matched case-insensitively, as ARM does.
        actions = {name.lower(): action for name, action in item.actions.items()}
        valid.append(replace(item, source=f"plugin:{plugin}", actions=actions))
    return valid, problems


def load_plugin_profiles(extra_plugins: Iterable[tuple[str, object]] = ()) -> PluginProfiles:
    """Call ``aso_arm_profiles`` of every installed plugin (plus ``extra_plugins``) and validate."""
    import logging

    log = logging.getLogger("aso.plugins")
    found = discover(extra_plugins)
    by_plugin: dict[str, tuple[ArmProfile, ...]] = {}
    problems: list[tuple[str, str]] = []
    for cand in list(found.candidates):
        result = call_hook(found.pm, cand, "aso_arm_profiles")
        if isinstance(result, str):
            problems.append((cand.name, result))
            log.error("%s: ARM profiles skipped: %s", cand.describe(), result)
            continue
        valid, bad = validate_profiles(cand.name, result)
        for message in bad:
            log.error("%s: %s", cand.describe(), message)
        problems += [(cand.name, message) for message in bad]
        if valid:
            by_plugin[cand.name] = tuple(valid)
    return PluginProfiles(by_plugin=by_plugin, problems=tuple(problems))
