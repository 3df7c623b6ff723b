"""The plugin host: discovers plugins, loads them safely and builds the kind registry once.

One bad plugin never stops the operator: a plugin that fails to import, implements an unknown hook,
raises from a hook or conflicts with another plugin is skipped with one log line naming it and the
reason; the others load.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pluggy

from aso import hookspecs
from aso.kinds import GVK, ResourceKind

__all__ = ["ENTRY_POINT_GROUP", "LoadedPlugin", "Registry", "SkippedPlugin", "load_registry"]

ENTRY_POINT_GROUP = "aso.plugins"
DISABLE_ENV = "ASO_DISABLE_PLUGINS"
TRACE_ENV = "ASO_TRACE_PLUGINS"

log = logging.getLogger("aso.plugins")


@dataclass(frozen=True, kw_only=True)
class LoadedPlugin:
    """A plugin that loaded, with the kinds it contributed."""

    name: str
    distribution: str
    version: str
    kinds: tuple[ResourceKind, ...]


@dataclass(frozen=True, kw_only=True)
class SkippedPlugin:
    """A plugin (or part of it) that was not loaded, and why."""

    name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Registry:
    """Every loaded kind by GVK, built once at start-up and read-only afterwards."""

    kinds: Mapping[GVK, ResourceKind]
    plugins: tuple[LoadedPlugin, ...]
    skipped: tuple[SkippedPlugin, ...] = ()
    by_group_kind: Mapping[tuple[str, str], ResourceKind] = field(default_factory=dict)

    def kind(self, group: str, kind: str) -> ResourceKind | None:
        return self.by_group_kind.get((group, kind))

    def all_kinds(self) -> list[ResourceKind]:
        return sorted(self.by_group_kind.values(), key=lambda k: (k.group, k.kind))


@dataclass
class _Candidate:
    name: str
    distribution: str
    version: str
    plugin: object


def _blocked_names() -> set[str]:
    return {name.strip() for name in os.environ.get(DISABLE_ENV, "").split(",") if name.strip()}


def _plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if os.environ.get(TRACE_ENV, "") not in ("", "0", "false"):
        trace_log = logging.getLogger("aso.plugins.trace")

        def before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
            trace_log.info("hook %s called on %s", hook_name, [impl.plugin_name for impl in impls])

        def after(
            outcome: pluggy.Result[Any],
            hook_name: str,
            impls: Sequence[pluggy.HookImpl],
            kwargs: Mapping[str, Any],
        ) -> None:
            trace_log.info(
                "hook %s returned %r", hook_name, outcome.get_result() if not outcome.exception else None
            )

        pm.add_hookcall_monitoring(before, after)
    return pm


def _entry_point_candidates(skipped: list[SkippedPlugin]) -> list[_Candidate]:
    blocked = _blocked_names()
    found: list[_Candidate] = []
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        dist_version = dist.version if dist is not None else "?"
        if ep.name in blocked:
            log.info("plugin %r (%s %s) disabled by %s", ep.name, dist_name, dist_version, DISABLE_ENV)
            skipped.append(SkippedPlugin(name=ep.name, reason=f"disabled by {DISABLE_ENV}"))
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time failure of third-party code must not stop the host
            reason = f"failed to import {ep.value}: {type(exc).__name__}: {exc}"
            log.error("plugin %r (%s %s) skipped: %s", ep.name, dist_name, dist_version, reason)
            skipped.append(SkippedPlugin(name=ep.name, reason=reason))
            continue
        found.append(_Candidate(ep.name, dist_name, dist_version, plugin))
    return found


def load_registry(extra_plugins: Iterable[tuple[str, object]] = ()) -> Registry:
    """Discover the installed plugins (plus ``extra_plugins``, given as ``(name, plugin)``) and index
    their kinds. Test-only plugins are passed in through ``extra_plugins``, never installed."""
    skipped: list[SkippedPlugin] = []
    candidates = _entry_point_candidates(skipped)
    blocked = _blocked_names()
    for name, plugin in extra_plugins:
        if name in blocked:
            skipped.append(SkippedPlugin(name=name, reason=f"disabled by {DISABLE_ENV}"))
            continue
        candidates.append(_Candidate(name, name, "-", plugin))

    pm = _plugin_manager()
    declared: list[tuple[_Candidate, list[ResourceKind]]] = []
    for cand in candidates:
        problem = _register(pm, cand)
        if problem is None:
            problem_or_kinds = _call_register_kinds(pm, cand)
            if isinstance(problem_or_kinds, str):
                problem = problem_or_kinds
            else:
                declared.append((cand, problem_or_kinds))
                continue
        log.error("plugin %r (%s %s) skipped: %s", cand.name, cand.distribution, cand.version, problem)
        skipped.append(SkippedPlugin(name=cand.name, reason=problem))
        if pm.is_registered(cand.plugin):
            pm.unregister(cand.plugin)

    return _index(declared, skipped)


def _register(pm: pluggy.PluginManager, cand: _Candidate) -> str | None:
    try:
        pm.register(cand.plugin, name=cand.name)
    except Exception as exc:  # pluggy rejects bad hookimpl signatures and duplicate names here
        return f"cannot be registered: {type(exc).__name__}: {exc}"
    unknown = sorted(caller.name for caller in pm.get_hookcallers(cand.plugin) or [] if caller.spec is None)
    if unknown:
        return f"implements unknown hook(s) {', '.join(unknown)} (known: {', '.join(_known_hooks())})"
    return None


def _known_hooks() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith(f"{hookspecs.PROJECT}_"))


def _call_register_kinds(pm: pluggy.PluginManager, cand: _Candidate) -> list[ResourceKind] | str:
    others = [p for p in pm.get_plugins() if p is not cand.plugin]
    caller = pm.subset_hook_caller("aso_register_kinds", remove_plugins=others)
    try:
        results = caller()
    except Exception as exc:  # a hook that raises is the plugin's fault, not the host's
        return f"aso_register_kinds raised {type(exc).__name__}: {exc}"
    kinds: list[ResourceKind] = []
    for result in results:
        for kind in result:
            if not isinstance(kind, ResourceKind):
                return f"aso_register_kinds returned {type(kind).__name__}, expected aso.ResourceKind"
            kinds.append(kind)
    return kinds


def _index(declared: list[tuple[_Candidate, list[ResourceKind]]], skipped: list[SkippedPlugin]) -> Registry:
    claims: dict[tuple[str, str], list[str]] = {}
    for cand, kinds in declared:
        for kind in kinds:
            claims.setdefault((kind.group, kind.kind), []).append(cand.name)
    conflicted = {key for key, owners in claims.items() if len(owners) > 1}
    for group, kind_name in sorted(conflicted):
        owners = claims[(group, kind_name)]
        reason = f"{group}/{kind_name} is declared by more than one plugin ({', '.join(owners)}); none loaded"
        log.error("plugins %s conflict: %s", ", ".join(repr(o) for o in owners), reason)
        skipped.extend(SkippedPlugin(name=owner, reason=reason) for owner in owners)

    by_gvk: dict[GVK, ResourceKind] = {}
    by_group_kind: dict[tuple[str, str], ResourceKind] = {}
    loaded: list[LoadedPlugin] = []
    for cand, kinds in declared:
        accepted: list[ResourceKind] = []
        for kind in kinds:
            if (kind.group, kind.kind) in conflicted:
                continue
            problems = kind.problems()
            if problems:
                reason = f"{kind.group}/{kind.kind} is invalid: " + "; ".join(problems)
                log.error(
                    "plugin %r (%s %s) kind skipped: %s", cand.name, cand.distribution, cand.version, reason
                )
                skipped.append(SkippedPlugin(name=cand.name, reason=reason))
                continue
            accepted.append(kind)
            by_group_kind[(kind.group, kind.kind)] = kind
            for gvk in kind.gvks():
                by_gvk[gvk] = kind
        loaded.append(
            LoadedPlugin(
                name=cand.name, distribution=cand.distribution, version=cand.version, kinds=tuple(accepted)
            )
        )
    return Registry(
        kinds=MappingProxyType(by_gvk),
        plugins=tuple(loaded),
        skipped=tuple(skipped),
        by_group_kind=MappingProxyType(by_group_kind),
    )
