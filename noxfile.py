"""Sessions for the aso workspace. Plugin distributions are found by globbing plugins/*/pyproject.toml."""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import nox

ROOT = pathlib.Path(__file__).parent
PLUGINS = sorted(str(p.parent) for p in ROOT.glob("plugins/*/pyproject.toml"))
PACKAGES = ["./core", *(f"./{pathlib.Path(p).relative_to(ROOT)}" for p in PLUGINS)]
TEST_DEPS = ["pytest>=8", "pytest-asyncio>=0.23", "pytest-timeout>=2.3", "setuptools>=68"]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "crds_fresh", "tests"]
nox.options.reuse_existing_virtualenvs = True


def _install_workspace(session: nox.Session, *extra: str, kit: bool = False) -> None:
    """Editable installs of core and every plugin; ``kit`` adds core's test kit (``aso-core[testing]``)."""
    packages = [f"{PACKAGES[0]}[testing]" if kit else PACKAGES[0], *PACKAGES[1:]]
    session.install(*(arg for pkg in packages for arg in ("-e", pkg)), *extra)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, integration and end-to-end tests (everything but benchmarks)."""
    _install_workspace(session, *TEST_DEPS, kit=True)
    session.run("pytest", *(session.posargs or ["-q"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the whole tree."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over core and every plugin."""
    _install_workspace(session, "mypy>=1.10", "types-pyyaml", "types-jsonschema", *TEST_DEPS, kit=True)
    session.run("mypy")


@nox.session
def crds(session: nox.Session) -> None:
    """Regenerate crds/ from the installed plugins (core plus plugins/*, nothing else)."""
    _install_workspace(session)
    out = ROOT / "crds"
    shutil.rmtree(out, ignore_errors=True)
    session.run("aso", "crds", "--out", str(out))


@nox.session
def crds_fresh(session: nox.Session) -> None:
    """Fail when crds/ differs from what `aso crds` generates now."""
    _install_workspace(session)
    with tempfile.TemporaryDirectory() as tmp:
        session.run("aso", "crds", "--out", tmp)
        session.run("diff", "-r", "-u", str(ROOT / "crds"), tmp, external=True)


@nox.session
def schemas(session: nox.Session) -> None:
    """Regenerate the committed schema data of every plugin (`aso schemas`: the SDK releases pinned in
    each plugin's schemagen.yaml, installed into throwaway venvs). `-- --check` only checks."""
    _install_workspace(session)
    session.run("aso", "schemas", *session.posargs, *PLUGINS)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: print figures, assert nothing about time."""
    _install_workspace(session, *TEST_DEPS, kit=True)
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT)])}
    for script in sorted((ROOT / "tests" / "bench").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs, env=env)
