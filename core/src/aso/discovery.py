"""Finding and registering plugins: entry points of ``aso.plugins``, the disable and trace switches.

Shared by the plugin host (kinds, :mod:`aso.host`) and the ARM emulator (profiles), which must not
import the host's kind machinery. A plugin that fails to import or implements an unknown hook is
skipped with one log line naming it and why; the others load.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy

from aso import hookspecs

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "TRACE_ENV",
    "Candidate",
    "Discovered",
    "SkippedPlugin",
    "call_hook",
    "discover",
]

ENTRY_POINT_GROUP = "aso.plugins"
DISABLE_ENV = "ASO_DISABLE_PLUGINS"
TRACE_ENV = "ASO_TRACE_PLUGINS"

log = logging.getLogger("aso.plugins")


@dataclass(frozen=True, kw_only=True)
class SkippedPlugin:
    """A plugin (or part of it) that was not loaded, and why."""

    name: str
    reason: str


@dataclass
class Candidate:
    """A plugin object found through an entry point (or handed over), registered with pluggy."""

    name: str
    distribution: str
    version: str
    plugin: object

    def describe(self) -> str:
        return f"plugin {self.name!r} ({self.distribution} {self.version})"


@dataclass
class Discovered:
    pm: pluggy.PluginManager
    candidates: list[Candidate]
    skipped: list[SkippedPlugin]

    def skip(self, cand: Candidate, reason: str) -> None:
        """Drop a registered plugin with one error line naming it and ``reason``."""
        log.error("%s skipped: %s", cand.describe(), reason)
        self.skipped.append(SkippedPlugin(name=cand.name, reason=reason))
        if cand in self.candidates:
            self.candidates.remove(cand)
        if self.pm.is_registered(cand.plugin):
            self.pm.unregister(cand.plugin)


def blocked_names() -> set[str]:
    return {name.strip() for name in os.environ.get(DISABLE_ENV, "").split(",") if name.strip()}


def plugin_manager() -> pluggy.PluginManager:
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


def _entry_point_candidates(skipped: list[SkippedPlugin]) -> list[Candidate]:
    blocked = blocked_names()
    found: list[Candidate] = []
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
        found.append(Candidate(ep.name, dist_name, dist_version, plugin))
    return found


def known_hooks() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith(f"{hookspecs.PROJECT}_"))


def _register(pm: pluggy.PluginManager, cand: Candidate) -> str | None:
    try:
        pm.register(cand.plugin, name=cand.name)
    except Exception as exc:  # pluggy rejects bad hookimpl signatures and duplicate names here
        return f"cannot be registered: {type(exc).__name__}: {exc}"
    unknown = sorted(caller.name for caller in pm.get_hookcallers(cand.plugin) or [] if caller.spec is None)
    if unknown:
        return f"implements unknown hook(s) {', '.join(unknown)} (known: {', '.join(known_hooks())})"
    return None


def discover(extra_plugins: Iterable[tuple[str, object]] = ()) -> Discovered:
    """Load the installed plugins (plus ``extra_plugins``, ``(name, plugin)``) and register them."""
    skipped: list[SkippedPlugin] = []
    candidates = _entry_point_candidates(skipped)
    blocked = blocked_names()
    for name, plugin in extra_plugins:
        if name in blocked:
            skipped.append(SkippedPlugin(name=name, reason=f"disabled by {DISABLE_ENV}"))
            continue
        candidates.append(Candidate(name, name, "-", plugin))
    found = Discovered(pm=plugin_manager(), candidates=[], skipped=skipped)
    for cand in candidates:
        found.candidates.append(cand)
        problem = _register(found.pm, cand)
        if problem is not None:
            found.skip(cand, problem)
    return found


def call_hook(pm: pluggy.PluginManager, cand: Candidate, hook_name: str) -> list[Any] | str:
    """The items ``hook_name`` of one plugin returned (flattened), or why it failed."""
    others = [p for p in pm.get_plugins() if p is not cand.plugin]
    caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
    try:
        results = caller()
    except Exception as exc:  # a hook that raises is the plugin's fault, not the host's
        return f"{hook_name} raised {type(exc).__name__}: {exc}"
    items: list[Any] = []
    for result in results:
        if isinstance(result, str | bytes) or not isinstance(result, Iterable):
            return f"{hook_name} returned {type(result).__name__}, expected a sequence"
        items.extend(result)
    return items
