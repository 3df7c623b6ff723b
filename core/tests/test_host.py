"""Plugin discovery and safe loading."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Sequence

import pytest

from aso import KindVersion, ResourceKind, Scope, hookimpl
from aso.host import load_registry

_SCHEMA = {
    "spec": {"type": "object", "properties": {"location": {"type": "string"}}},
    "status": {"type": "object"},
}


def _schema_package(site: pathlib.Path, package: str, *names: str) -> None:
    """A package holding ``schemas/<name>.json`` for each name (``gizmo.v1api20240101``)."""
    (site / package / "schemas").mkdir(parents=True, exist_ok=True)
    (site / package / "__init__.py").write_text("")
    for name in names:
        (site / package / "schemas" / f"{name}.json").write_text(json.dumps(_SCHEMA))


@pytest.fixture(autouse=True)
def acme_schemas(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """The schema data of the test kinds: package ``acme`` on sys.path."""
    site = tmp_path / "acme-site"
    _schema_package(site, "acme", "gizmo.v1api20240101", "other.v1api20240101")
    monkeypatch.syspath_prepend(str(site))
    sys.modules.pop("acme", None)
    return site


def _kind(group: str = "acme.example.com", kind: str = "Gizmo", **overrides: object) -> ResourceKind:
    fields: dict[str, object] = {
        "group": group,
        "kind": kind,
        "plural": kind.lower() + "s",
        "arm_type": "Acme.Things/gizmos",
        "owner": Scope.RESOURCE_GROUP,
        "versions": (KindVersion(name="v1api20240101", arm_api_version="2024-01-01"),),
        "storage_version": "v1api20240101",
        "schema_package": "acme",
    }
    fields.update(overrides)
    return ResourceKind(**fields)  # type: ignore[arg-type]


def _as_plugin(**hooks: object) -> object:
    """A plugin object (pluggy needs it hashable) whose attributes are the given hook functions."""
    return type("FakePlugin", (), {name: staticmethod(fn) for name, fn in hooks.items()})()


def _plugin(*kinds: ResourceKind) -> object:
    @hookimpl
    def aso_register_kinds() -> Sequence[ResourceKind]:
        return list(kinds)

    return _as_plugin(aso_register_kinds=aso_register_kinds)


def test_installed_resources_plugin_is_discovered() -> None:
    registry = load_registry()
    names = {p.name: p for p in registry.plugins}
    assert names["resources"].distribution == "aso-resources"
    kind = registry.kind("resources.azure.com", "ResourceGroup")
    assert kind is not None
    assert kind.storage_version == "v1api20200601"
    assert {str(g) for g in kind.gvks()} >= {"resources.azure.com/v1api20200601, Kind=ResourceGroup"}


def test_extra_plugin_kinds_are_indexed_by_gvk() -> None:
    registry = load_registry(extra_plugins=[("acme", _plugin(_kind()))])
    kind = registry.kind("acme.example.com", "Gizmo")
    assert kind is not None
    assert registry.kinds[kind.gvks()[0]] is kind


def test_unknown_hook_skips_only_that_plugin(caplog: pytest.LogCaptureFixture) -> None:
    @hookimpl
    def aso_register_widgets() -> None:
        return None

    bad = _as_plugin(aso_register_widgets=aso_register_widgets)
    with caplog.at_level(logging.ERROR, logger="aso.plugins"):
        registry = load_registry(extra_plugins=[("bad", bad), ("good", _plugin(_kind()))])
    assert registry.kind("acme.example.com", "Gizmo") is not None
    (skipped,) = [s for s in registry.skipped if s.name == "bad"]
    assert "unknown hook(s) aso_register_widgets" in skipped.reason
    assert "plugin 'bad'" in caplog.text
    assert "aso_register_widgets" in caplog.text


def test_raising_hook_skips_plugin(caplog: pytest.LogCaptureFixture) -> None:
    @hookimpl
    def aso_register_kinds() -> Sequence[ResourceKind]:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="aso.plugins"):
        registry = load_registry(
            extra_plugins=[("explodes", _as_plugin(aso_register_kinds=aso_register_kinds))]
        )
    assert [s.reason for s in registry.skipped if s.name == "explodes"] == [
        "aso_register_kinds raised RuntimeError: boom"
    ]
    assert "plugin 'explodes'" in caplog.text


def test_duplicate_group_kind_loads_neither_and_names_both(caplog: pytest.LogCaptureFixture) -> None:
    other = _kind(kind="Other", plural="others")
    with caplog.at_level(logging.ERROR, logger="aso.plugins"):
        registry = load_registry(extra_plugins=[("one", _plugin(_kind(), other)), ("two", _plugin(_kind()))])
    assert registry.kind("acme.example.com", "Gizmo") is None
    assert registry.kind("acme.example.com", "Other") is not None
    conflict_lines = [r.getMessage() for r in caplog.records if "conflict" in r.getMessage()]
    assert len(conflict_lines) == 1
    assert "'one'" in conflict_lines[0]
    assert "'two'" in conflict_lines[0]
    assert "acme.example.com/Gizmo" in conflict_lines[0]


def test_invalid_kind_is_skipped_naming_the_field() -> None:
    broken = _kind(storage_version="v2", arm_type="nope")
    registry = load_registry(extra_plugins=[("sloppy", _plugin(broken))])
    assert registry.kind("acme.example.com", "Gizmo") is None
    (reason,) = [s.reason for s in registry.skipped if s.name == "sloppy"]
    assert "storage_version 'v2'" in reason
    assert "arm_type 'nope'" in reason


def test_wrong_return_type_is_reported() -> None:
    @hookimpl
    def aso_register_kinds() -> Sequence[object]:
        return [{"kind": "Gizmo"}]

    registry = load_registry(extra_plugins=[("dicty", _as_plugin(aso_register_kinds=aso_register_kinds))])
    assert "returned dict, expected aso.ResourceKind" in registry.skipped[0].reason


def test_disable_env_blocks_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASO_DISABLE_PLUGINS", "resources, acme")
    registry = load_registry(extra_plugins=[("acme", _plugin(_kind()))])
    assert registry.kind("resources.azure.com", "ResourceGroup") is None
    assert registry.kind("acme.example.com", "Gizmo") is None
    assert {s.name for s in registry.skipped} >= {"resources", "acme"}


def test_trace_env_logs_every_hook_call(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ASO_TRACE_PLUGINS", "1")
    with caplog.at_level(logging.INFO, logger="aso.plugins.trace"):
        load_registry(extra_plugins=[("acme", _plugin(_kind()))])
    calls = [r.getMessage() for r in caplog.records if r.name == "aso.plugins.trace"]
    assert any("hook aso_register_kinds called on ['acme']" in c for c in calls)
    assert any("hook aso_register_kinds returned" in c and "Gizmo" in c for c in calls)


# A throwaway third-party distribution: own pyproject and entry point, built with the PEP 517 backend
# in a temp dir and unpacked onto a path of its own (never installed into this environment).
_PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "3.1.4"

[project.entry-points."aso.plugins"]
{ep} = "{module}"

[tool.setuptools]
py-modules = ["{module}"]
"""

_MODULE = """\
from aso import KindVersion, ResourceKind, Scope, hookimpl

@hookimpl
def aso_register_kinds():
    return [ResourceKind(
        group="acme.example.com", kind="Gizmo", plural="gizmos", arm_type="Acme.Things/gizmos",
        owner=Scope.RESOURCE_GROUP, storage_version="v1api20240101", schema_package="acme_gizmos_data",
        versions=(KindVersion(name="v1api20240101", arm_api_version="2024-01-01"),),
    )]
"""


def _build_distribution(tmp: pathlib.Path, dist: str, ep: str, module: str, code: str) -> pathlib.Path:
    src = tmp / f"src-{dist}"
    src.mkdir()
    (src / "pyproject.toml").write_text(_PYPROJECT.format(dist=dist, ep=ep, module=module))
    (src / f"{module}.py").write_text(code)
    wheels = tmp / "wheels"
    wheels.mkdir(exist_ok=True)
    build = "import setuptools.build_meta as b, sys; print(b.build_wheel(sys.argv[1]))"
    name = (
        subprocess.run(
            [sys.executable, "-c", build, str(wheels)], cwd=src, check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    site = tmp / "site"
    with zipfile.ZipFile(wheels / name) as wheel:
        wheel.extractall(site)
    return site


def _aso(
    site: pathlib.Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aso", *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def test_third_party_distribution_is_discovered_and_broken_one_reported(tmp_path: pathlib.Path) -> None:
    site = _build_distribution(tmp_path, "acme-gizmos", "acme", "acme_gizmos", _MODULE)
    _schema_package(site, "acme_gizmos_data", "gizmo.v1api20240101")
    _build_distribution(tmp_path, "acme-broken", "broken", "acme_broken", "import no_such_module_anywhere\n")

    result = _aso(site, "plugins", "--output", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    acme = next(p for p in doc["plugins"] if p["plugin"] == "acme")
    assert acme["distribution"] == "acme-gizmos"
    assert acme["version"] == "3.1.4"
    assert acme["kinds"][0]["kind"] == "Gizmo"
    assert any(p["plugin"] == "resources" for p in doc["plugins"])
    (broken,) = [s for s in doc["skipped"] if s["plugin"] == "broken"]
    assert "failed to import acme_broken" in broken["reason"]
    assert "no_such_module_anywhere" in broken["reason"]
    assert "plugin 'broken' (acme-broken 3.1.4) skipped" in result.stderr

    blocked = _aso(site, "plugins", "-o", "json", env={"ASO_DISABLE_PLUGINS": "acme"})
    assert all(p["plugin"] != "acme" for p in json.loads(blocked.stdout)["plugins"])


def test_plugins_table_lists_kinds() -> None:
    result = _aso(pathlib.Path("/nonexistent"), "plugins")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["PLUGIN", "DISTRIBUTION", "VERSION", "GROUP", "KIND", "VERSIONS", "STORAGE"]
    assert any(
        textwrap.dedent(r).split()[:5]
        == ["resources", "aso-resources", "0.1.0", "resources.azure.com", "ResourceGroup"]
        for r in rows
    )


# -- a broken kind never breaks the others -------------------------------------------------------


def test_versions_as_a_list_skips_the_kind_naming_plugin_kind_and_fix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    listed = _kind(
        kind="Other",
        plural="others",
        versions=[KindVersion(name="v1api20240101", arm_api_version="2024-01-01")],
    )
    with caplog.at_level(logging.ERROR, logger="aso.plugins"):
        registry = load_registry(extra_plugins=[("acme", _plugin(_kind(), listed))])
    assert registry.kind("acme.example.com", "Gizmo") is not None
    assert registry.kind("acme.example.com", "Other") is None
    (line,) = [r.getMessage() for r in caplog.records if "Other" in r.getMessage()]
    assert "plugin 'acme'" in line
    assert "kind acme.example.com/Other skipped" in line
    assert "versions: expected a tuple (...), got list" in line
    assert "fix: " in line
    (plugin,) = [p for p in registry.plugins if p.name == "acme"]
    assert [k.kind for k in plugin.kinds] == ["Gizmo"]
    assert any("acme.example.com/Other" in p for p in plugin.problems)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (None, "schemas/other.v1api20240101.json is missing from package 'acme'"),
        ("{not json", "is unreadable"),
        ('{"spec": {"type": "object"}}', "status: missing"),
        ('{"spec": {"properties": {"a": {}}}, "status": {"type": "object"}}', "spec: no type"),
    ],
)
def test_missing_unreadable_or_non_structural_schema_skips_only_that_kind(
    acme_schemas: pathlib.Path, damage: str | None, expected: str
) -> None:
    target = acme_schemas / "acme" / "schemas" / "other.v1api20240101.json"
    if damage is None:
        target.unlink()
    else:
        target.write_text(damage)
    other = _kind(kind="Other", plural="others")
    registry = load_registry(extra_plugins=[("acme", _plugin(_kind(), other))])
    assert registry.kind("acme.example.com", "Gizmo") is not None
    assert registry.kind("acme.example.com", "Other") is None
    (reason,) = [s.reason for s in registry.skipped if "Other" in s.reason]
    assert expected in reason
    assert "fix: run `aso schemas <plugin dir>`" in reason


def test_crds_and_plugins_still_work_for_the_others(
    acme_schemas: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """A third-party plugin with a broken kind: `aso crds` writes the rest, `aso plugins` says why."""
    module = (
        _MODULE.replace('kind="Gizmo", plural="gizmos"', 'kind="Gizmo", plural="gizmos"')
        .replace("versions=(KindVersion", "versions=[KindVersion")
        .replace('"2024-01-01"),),', '"2024-01-01")],')
    )
    site = _build_distribution(tmp_path, "acme-gizmos", "acme", "acme_gizmos", module)
    _schema_package(site, "acme_gizmos_data", "gizmo.v1api20240101")
    crds = _aso(site, "crds", "--out", str(tmp_path / "crds"))
    assert crds.returncode == 0, crds.stderr
    assert (tmp_path / "crds" / "resourcegroups.resources.azure.com.yaml").is_file()
    assert "versions: expected a tuple" in crds.stderr
    listing = _aso(site, "plugins")
    assert listing.returncode == 0
    assert "PROBLEMS" in listing.stdout
    assert "acme: kind acme.example.com/Gizmo skipped: versions: expected a tuple" in listing.stdout
