"""The plugin host: discovers plugins, loads them safely and builds the kind registry once.

One bad plugin never stops the operator, and one bad kind never stops its plugin: a plugin that
fails to import, implements an unknown hook, raises from a hook or conflicts with another plugin is
skipped with one log line naming it and the reason; a kind whose declaration is wrong (a field of
the wrong type, a missing, unreadable or non-structural schema file) is skipped with one log line
naming the plugin, the kind and the fix. The others load, so ``aso crds``, ``aso run`` and
``aso sandbox`` work for them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aso.armprofiles import ArmProfile, validate_profiles
from aso.discovery import (
    DISABLE_ENV,
    ENTRY_POINT_GROUP,
    TRACE_ENV,
    Candidate,
    SkippedPlugin,
    call_hook,
    discover,
)
from aso.kinds import GVK, ResourceKind
from aso.validation import field_problems

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "TRACE_ENV",
    "LoadedPlugin",
    "Registry",
    "SkippedPlugin",
    "kind_problems",
    "load_registry",
]

log = logging.getLogger("aso.plugins")


@dataclass(frozen=True, kw_only=True)
class LoadedPlugin:
    """A plugin that loaded, with the kinds and ARM emulator profiles it contributed."""

    name: str
    distribution: str
    version: str
    kinds: tuple[ResourceKind, ...]
    profiles: tuple[ArmProfile, ...] = ()
    #: What was skipped of this plugin (kinds, profiles), one message each.
    problems: tuple[str, ...] = ()


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


def load_registry(extra_plugins: Iterable[tuple[str, object]] = ()) -> Registry:
    """Discover the installed plugins (plus ``extra_plugins``, given as ``(name, plugin)``) and index
    their kinds. Test-only plugins are passed in through ``extra_plugins``, never installed."""
    found = discover(extra_plugins)
    declared: list[tuple[Candidate, list[ResourceKind], list[ArmProfile], list[str]]] = []
    for cand in list(found.candidates):
        kinds = call_hook(found.pm, cand, "aso_register_kinds")
        if isinstance(kinds, str):
            found.skip(cand, kinds)
            continue
        wrong = next((k for k in kinds if not isinstance(k, ResourceKind)), None)
        if wrong is not None:
            found.skip(cand, f"aso_register_kinds returned {type(wrong).__name__}, expected aso.ResourceKind")
            continue
        problems: list[str] = []
        profiles: list[ArmProfile] = []
        raw_profiles = call_hook(found.pm, cand, "aso_arm_profiles")
        if isinstance(raw_profiles, str):
            problems.append(raw_profiles)
        else:
            profiles, bad = validate_profiles(cand.name, raw_profiles)
            problems += bad
        for message in problems:
            log.error("%s: %s", cand.describe(), message)
        declared.append((cand, kinds, profiles, problems))
    return _index(declared, found.skipped)


# -- validation of one kind ------------------------------------------------------------------------

_FIX_TYPES = "declare every field with the type aso.ResourceKind documents (tuples, not lists)"


def _is_structural(node: Any, path: str) -> list[str]:
    """Kubernetes' structural-schema rules that a hand-edited or truncated file breaks."""
    if not isinstance(node, dict):
        return [f"{path}: expected an object schema"]
    found: list[str] = []
    if "$ref" in node:
        found.append(f"{path}: $ref is not allowed")
    if "type" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        found.append(f"{path}: no type")
    for name, child in (node.get("properties") or {}).items():
        found += _is_structural(child, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            found += _is_structural(node[key], f"{path}.{key}")
    return found


def _schema_problems(kind: ResourceKind) -> list[str]:
    import importlib.resources

    found: list[str] = []
    fix = f"run `aso schemas <plugin dir>` for package {kind.schema_package!r} and reinstall it"
    try:
        folder = importlib.resources.files(kind.schema_package) / "schemas"
    except (ModuleNotFoundError, TypeError) as exc:
        return [f"schema_package {kind.schema_package!r}: cannot be imported ({exc}); fix: {fix}"]
    for version in kind.versions:
        name = f"{kind.kind.lower()}.{version.name}.json"
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            found.append(f"schemas/{name} is missing from package {kind.schema_package!r}; fix: {fix}")
            continue
        except (OSError, ValueError) as exc:
            found.append(f"schemas/{name} in {kind.schema_package!r} is unreadable ({exc}); fix: {fix}")
            continue
        bad = [] if isinstance(data, dict) else ["<root>: expected an object"]
        if not bad:
            bad = [f"{part}: missing" for part in ("spec", "status") if not isinstance(data.get(part), dict)]
        if not bad:
            bad = _is_structural(data["spec"], "spec") + _is_structural(data["status"], "status")
        if bad:
            found.append(f"schemas/{name} is not structural ({'; '.join(bad[:3])}); fix: {fix}")
    return found


def kind_problems(kind: ResourceKind) -> list[str]:
    """Everything that keeps ``kind`` from loading, each naming the field and the fix."""
    from aso.extensions import Extensions

    typed = field_problems(kind, namespace={"Extensions": Extensions})
    if typed:
        return [*typed, f"fix: {_FIX_TYPES}"]
    found = kind.problems()
    if found:
        return found
    return _schema_problems(kind)


def _index(
    declared: list[tuple[Candidate, list[ResourceKind], list[ArmProfile], list[str]]],
    skipped: list[SkippedPlugin],
) -> Registry:
    claims: dict[tuple[str, str], list[str]] = {}
    for cand, kinds, _, _ in declared:
        for kind in kinds:
            claims.setdefault((str(kind.group), str(kind.kind)), []).append(cand.name)
    conflicted = {key for key, owners in claims.items() if len(owners) > 1}
    for group, kind_name in sorted(conflicted):
        owners = claims[(group, kind_name)]
        reason = f"{group}/{kind_name} is declared by more than one plugin ({', '.join(owners)}); none loaded"
        log.error("plugins %s conflict: %s", ", ".join(repr(o) for o in owners), reason)
        skipped.extend(SkippedPlugin(name=owner, reason=reason) for owner in owners)

    by_gvk: dict[GVK, ResourceKind] = {}
    by_group_kind: dict[tuple[str, str], ResourceKind] = {}
    loaded: list[LoadedPlugin] = []
    for cand, kinds, profiles, problems in declared:
        accepted: list[ResourceKind] = []
        for kind in kinds:
            if (str(kind.group), str(kind.kind)) in conflicted:
                continue
            try:
                found = kind_problems(kind)
            except Exception as exc:  # a declaration odd enough to break the checks is still only its fault
                found = [f"cannot be validated: {type(exc).__name__}: {exc}"]
            if found:
                reason = f"kind {kind.group}/{kind.kind} skipped: " + "; ".join(found)
                log.error("%s %s", cand.describe(), reason)
                skipped.append(SkippedPlugin(name=cand.name, reason=reason))
                problems = [*problems, reason]
                continue
            accepted.append(kind)
            by_group_kind[(kind.group, kind.kind)] = kind
            for gvk in kind.gvks():
                by_gvk[gvk] = kind
        loaded.append(
            LoadedPlugin(
                name=cand.name,
                distribution=cand.distribution,
                version=cand.version,
                kinds=tuple(accepted),
                profiles=tuple(profiles),
                problems=tuple(problems),
            )
        )
    return Registry(
        kinds=MappingProxyType(by_gvk),
        plugins=tuple(loaded),
        skipped=tuple(skipped),
        by_group_kind=MappingProxyType(by_group_kind),
    )
