"""``aso new-plugin``: a complete, tested plugin distribution for one kind, from a few facts.

Writes pyproject (with the ``aso.plugins`` entry point and the test extra), the plugin module, the
generator config, a README and an end-to-end test using the kit, then generates the schema with
``aso schemas`` (the pinned SDK release in a throwaway venv) and fills the test's sample object
with the values the schema requires.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PluginFacts", "plural_of", "version_name", "write_plugin"]

_SERVICE = re.compile(r"^[a-z][a-z0-9]*$")


def plural_of(kind: str) -> str:
    """ASO's lower-case plural: ``UserAssignedIdentity`` -> ``userassignedidentities``."""
    word = kind.lower()
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def version_name(arm_api_version: str) -> str:
    """ASO's version name of an ARM api-version: ``2023-01-31`` -> ``v1api20230131``."""
    return "v1api" + arm_api_version.replace("-", "")


@dataclass(frozen=True, kw_only=True)
class PluginFacts:
    service: str
    group: str
    kind: str
    arm_type: str
    arm_api_version: str
    sdk: str
    model: str
    owner: str = "resource-group"
    plural: str = ""

    @property
    def package(self) -> str:
        return f"aso_{self.service}"

    @property
    def version(self) -> str:
        return version_name(self.arm_api_version)

    @property
    def constant(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.kind).upper()

    def problems(self) -> list[str]:
        found = []
        if not _SERVICE.match(self.service):
            found.append(f"NAME {self.service!r}: lower-case letters and digits, e.g. 'keyvault'")
        if "==" not in self.sdk:
            found.append(f"--sdk {self.sdk!r}: pin the release as PACKAGE==VERSION")
        if not re.match(r"^\d{4}-\d{2}-\d{2}(-preview)?$", self.arm_api_version):
            found.append(f"--api-version {self.arm_api_version!r}: like 2023-07-01")
        if self.owner not in ("resource-group", "subscription") and "/" not in self.owner:
            found.append(f"--owner {self.owner!r}: resource-group, subscription or GROUP/KIND")
        return found


def default_model(sdk: str, arm_api_version: str, kind: str) -> str:
    """The usual home of a model in an azure-mgmt-* release with one subpackage per API version."""
    service = sdk.partition("==")[0].removeprefix("azure-mgmt-").replace("-", "")
    return f"azure.mgmt.{service}.v{arm_api_version.replace('-', '_')}.models.{kind}"


def _owner_code(owner: str) -> tuple[str, str]:
    """(import names, expression) of the owner."""
    if owner == "subscription":
        return "Scope", "Scope.SUBSCRIPTION"
    if owner == "resource-group":
        return "Scope", "Scope.RESOURCE_GROUP"
    group, _, kind = owner.partition("/")
    return "OwnerKind", f'OwnerKind(group="{group}", kind="{kind}")'


def _files(facts: PluginFacts) -> dict[str, str]:
    owner_import, owner = _owner_code(facts.owner)
    dist = f"aso-{facts.service}"
    return {
        "pyproject.toml": f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "aso plugin: {facts.kind} ({facts.group})"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["aso-core"]
optional-dependencies = {{ test = ["aso-core[testing]"] }}
entry-points."aso.plugins" = {{ {facts.service} = "{facts.package}.plugin" }}

[tool.setuptools.package-data]
{facts.package} = ["py.typed", "schemas/*.json"]

[tool.pytest.ini_options]
timeout = 300
""",
        "schemagen.yaml": f"""# `aso schemas .` regenerates the schema data from the pinned SDK release.
package: {facts.package}
sdk: {facts.sdk}
kinds:
  {facts.kind}:
    armType: {facts.arm_type}
    versions:
      {facts.version}:
        armApiVersion: "{facts.arm_api_version}"
        model: {facts.model}
""",
        f"src/{facts.package}/__init__.py": f'"""aso plugin: {facts.kind} ({facts.group})."""\n',
        f"src/{facts.package}/py.typed": "",
        f"src/{facts.package}/plugin.py": f'''"""{facts.kind} ({facts.group}), ARM type {facts.arm_type}."""

from collections.abc import Sequence

from aso import KindVersion, {owner_import}, ResourceKind, hookimpl

{facts.constant} = ResourceKind(
    group="{facts.group}",
    kind="{facts.kind}",
    plural="{facts.plural}",
    arm_type="{facts.arm_type}",
    owner={owner},
    versions=(KindVersion(name="{facts.version}", arm_api_version="{facts.arm_api_version}"),),
    storage_version="{facts.version}",
    schema_package="{facts.package}",
)


@hookimpl
def aso_register_kinds() -> Sequence[ResourceKind]:
    return [{facts.constant}]
''',
        "README.md": f"""# {dist}

An [aso](https://pypi.org/project/aso-core/) plugin: `{facts.kind}` of `{facts.group}`
(ARM `{facts.arm_type}`), version `{facts.version}` (api-version {facts.arm_api_version}),
schema from `{facts.sdk}`.

```sh
pip install -e '.[test]' && pytest          # end to end on the local sandbox
aso schemas .                                # regenerate the schema after editing schemagen.yaml
aso plugins && aso crds --out crds           # what the operator sees
```
""",
    }


def _sample_value(name: str, schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: _sample_value(key, props[key]) for key in schema.get("required", []) if key in props}
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    return "westus2" if name == "location" else "example"


def sample_spec(facts: PluginFacts, spec_schema: dict[str, Any]) -> dict[str, Any]:
    """A spec holding every required property (the owner from the test's resource group)."""
    spec = _sample_value("spec", spec_schema)
    assert isinstance(spec, dict)
    return spec


_RG_ARGS = '"rg-test", {"location": "westus2"}'


def _owner_lines(facts: PluginFacts) -> tuple[str, str]:
    """(lines creating the owner in the emulator, the spec's owner entry)."""
    if facts.owner == "subscription":
        return "", ""
    lines = "    rg = arm_emulator.resource_client().resource_groups.create_or_update(" + _RG_ARGS + ")\n"
    if facts.owner == "resource-group":
        return lines, '"owner": {"armId": rg.id}, '
    # A child: its parents are created in ARM (generic bodies), the object names its parent by id.
    namespace, *types = facts.arm_type.split("/")
    lines += "    resources = arm_emulator.resource_client().resources\n"
    lines += f'    parent = f"{{rg.id}}/providers/{namespace}"\n'
    for parent_type in types[:-1]:
        lines += f'    parent += "/{parent_type}/parent"\n'
        lines += (
            '    resources.begin_create_or_update_by_id(parent, {"location": "westus2"}, '
            f'api_version="{facts.arm_api_version}").result()\n'
        )
    return lines, '"owner": {"armId": parent}, '


def _test_file(facts: PluginFacts, spec: dict[str, Any]) -> str:
    setup, owner = _owner_lines(facts)
    body = owner + json.dumps(spec)[1:-1]
    body = body.removesuffix(", ")
    return f'''"""End to end on the local sandbox: ARM emulator, Kubernetes API server and the operator."""

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, create, wait_ready

WHICH = ("{facts.group}", "{facts.version}", "{facts.plural}")


def test_{facts.kind.lower()}_becomes_ready(
    arm_emulator: ArmEmulatorHandle, kube_api: KubeApi, running_operator: OperatorProcess
) -> None:
{setup}    sample = {{
        "apiVersion": "{facts.group}/{facts.version}",
        "kind": "{facts.kind}",
        "metadata": {{"name": "sample", "namespace": "default"}},
        "spec": {{{body}}},
    }}
    create(kube_api, sample, plural=WHICH[2])
    obj = wait_ready(kube_api, WHICH, "sample", timeout=120)
    assert obj["status"]["id"].endswith("/sample")
'''


def write_plugin(
    facts: PluginFacts, out: Path, generate: Callable[[Path], None], *, overwrite: bool = False
) -> list[Path]:
    """Write the distribution into ``out``; ``generate(out)`` writes its schema (``aso schemas``)."""
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out} exists and is not empty")
    written = []
    for relative, text in _files(facts).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    generate(out)
    schema_file = out / "src" / facts.package / "schemas" / f"{facts.kind.lower()}.{facts.version}.json"
    spec_schema = json.loads(schema_file.read_text(encoding="utf-8"))["spec"]
    test = out / "tests" / f"test_{facts.kind.lower()}.py"
    test.parent.mkdir(parents=True, exist_ok=True)
    test.write_text(_test_file(facts, sample_spec(facts, spec_schema)), encoding="utf-8")
    return [*written, schema_file, test]
