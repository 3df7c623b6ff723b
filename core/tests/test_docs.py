"""Every hook is documented for plugin authors (in the guide shipped with aso-core) with its exact
signature, and has a test of its own."""

from __future__ import annotations

import inspect
import pathlib
import re

from aso import hookspecs

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _hooks() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("aso_"))


def test_every_hook_has_docstring_with_result_semantics_and_version() -> None:
    for name in _hooks():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert ":return:" in doc, name
        assert ".. versionadded::" in doc, name


def test_every_hook_is_documented_in_the_shipped_guide_with_its_signature() -> None:
    from aso.docs import guide

    text = guide()
    for name in _hooks():
        fn = getattr(hookspecs, name)
        signature = str(inspect.signature(fn)).replace("'", "")
        assert f"def {name}{signature}: ..." in text, (
            f"{name}: document `def {name}{signature}: ...` in core/src/aso/docs/plugin-guide.md"
        )


def test_every_hook_has_a_test() -> None:
    test_files = [*ROOT.glob("core/tests/**/test_*.py"), *ROOT.glob("tests/**/test_*.py")]
    sources = "\n".join(p.read_text() for p in test_files if p.name != "test_docs.py")
    for name in _hooks():
        assert re.search(rf"def {name}\(", sources), f"no test implements hook {name}"
