"""What the READMEs and the plugin guide say of the code, checked against the code.

Every ``aso`` command (and each of its ``--options``) they show exists in the CLI; every
environment variable they name is read by the code, and every operator setting read by
``aso.operator.settings`` is documented in core/README.md; every repository path they name
exists; every kind and version a plugin's README lists in its tables is one the plugin serves,
and every kind a plugin serves is in its README.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest

from aso.cli import cli as aso_cli
from aso.host import load_registry

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted(
    ROOT / name
    for name in subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    if not name.startswith("crds/")
)
PLUGIN_READMES = sorted(ROOT.glob("plugins/*/README.md"))

#: Paths that a document names relative to something other than this repository, and why.
ELSEWHERE = {
    ("core/src/aso/docs/plugin-guide.md", "tests/test_userassignedidentity.py"): (
        "a file of the plugin that the guide's `aso new-plugin` writes (core/tests/test_guide.py runs it)"
    ),
}

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
_ENV_VAR = re.compile(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=[^`]*)?`")
_PATH = re.compile(r"^(\.\./)?[\w.-]+(/[\w.*-]+)+/?$")
_VERSION = re.compile(r"`(v1api\d{8}|v\d{8})(storage)?`")


def _rel(doc: Path) -> str:
    return doc.relative_to(ROOT).as_posix()


def _command_lines(text: str) -> list[str]:
    """``aso ...`` as a code span, or as a line of a shell block (``$ `` prompt allowed)."""
    lines = [span for span in _CODE_SPAN.findall(text) if span.startswith("aso ")]
    for lang, body in _FENCE.findall(text):
        if lang in ("", "sh", "bash", "shell", "console"):
            lines += [
                line.removeprefix("$ ")
                for line in body.splitlines()
                if line.removeprefix("$ ").startswith("aso ")
            ]
    return lines


def _option_names(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_every_aso_command_shown_exists_with_its_options(doc: Path) -> None:
    assert isinstance(aso_cli, click.Group)
    for line in _command_lines(doc.read_text(encoding="utf-8")):
        words = line.split("#")[0].split()
        name = words[1] if len(words) > 1 else ""
        command = aso_cli.commands.get(name)
        assert command is not None, f"{_rel(doc)}: `{line}`: aso has no command {name!r}"
        for word in words[2:]:
            option = word.split("=")[0]
            if option.startswith("--"):
                assert option in _option_names(command), f"{_rel(doc)}: `{line}`: aso {name} has no {option}"


def _sources() -> str:
    """The code that may read an environment variable: every Python file, and the image's build."""
    files = subprocess.run(
        ["git", "ls-files", "*.py", "helm/image/Dockerfile", "helm/image/*.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return "\n".join(
        (ROOT / name).read_text(encoding="utf-8")
        for name in files
        if name.startswith(("core/", "plugins/", "tests/", "helm/", "noxfile"))
    )


def test_every_environment_variable_named_is_read_by_the_code() -> None:
    code = _sources()
    for doc in DOCS:
        for name in set(_ENV_VAR.findall(doc.read_text(encoding="utf-8"))):
            read = re.search(rf"[\"']{name}[\"']|ARG {name}\b|\${{?{name}\b", code)
            assert read, f"{_rel(doc)} names {name}, which no code reads"


def test_every_operator_setting_is_documented_in_the_core_readme() -> None:
    settings = (ROOT / "core/src/aso/operator/settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\(\s*(?:e,\s*)?\"((?:ASO|AZURE|MAX)_[A-Z0-9_]+)\"", settings))
    assert "AZURE_SYNC_PERIOD" in read  # the pattern still finds what settings.py reads
    readme = (ROOT / "core/README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in read if name not in readme)
    assert missing == [], f"core/README.md, Operator settings: document {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_every_repository_path_named_exists(doc: Path) -> None:
    top = {p.name for p in ROOT.iterdir()} | {p.name for p in doc.parent.iterdir()}
    for span in set(_CODE_SPAN.findall(doc.read_text(encoding="utf-8"))):
        if not _PATH.match(span) or (span.split("/")[0] not in top and not span.startswith("../")):
            continue  # not a path of this repository (an ARM type, an apiVersion, a URL path)
        if (_rel(doc), span) in ELSEWHERE:
            continue
        bases = (ROOT, doc.parent)
        found = any(any(base.glob(span)) if "*" in span else (base / span).exists() for base in bases)
        assert found, f"{_rel(doc)} names `{span}`, which does not exist"


def _served() -> dict[str, tuple[set[str], set[str]]]:
    """Per plugin name: the kinds it serves and their version names."""
    return {
        plugin.name: (
            {kind.kind for kind in plugin.kinds},
            {version.name for kind in plugin.kinds for version in kind.versions},
        )
        for plugin in load_registry().plugins
    }


@pytest.mark.parametrize("readme", PLUGIN_READMES, ids=_rel)
def test_a_plugin_readme_lists_exactly_the_kinds_it_serves_and_only_its_versions(readme: Path) -> None:
    kinds, versions = _served()[readme.parent.name]
    text = readme.read_text(encoding="utf-8")
    header = re.search(r"^\| Kind \|.*\n\|[-| ]+\|\n((?:\|.*\n)+)", text, re.M)
    assert header is not None, f"{_rel(readme)}: no table of kinds (| Kind | ...)"
    listed = set(re.findall(r"^\| `(\w+)` \|", header.group(1), re.M))
    assert listed == kinds, f"{_rel(readme)}: lists {sorted(listed - kinds)}, omits {sorted(kinds - listed)}"
    tables = "\n".join(line for line in text.splitlines() if line.startswith("|"))
    named = {version for version, _ in _VERSION.findall(tables)}  # prose may name ASO's others
    assert named <= versions, (
        f"{_rel(readme)}: its tables name versions it does not serve: {sorted(named - versions)}"
    )
