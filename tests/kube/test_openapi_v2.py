"""kubectl's answer for a kind that is not installed goes through ``/openapi/v2`` in protobuf."""

from __future__ import annotations

import pytest

from .conftest import Kubectl

pytestmark = pytest.mark.timeout(60)

UNKNOWN = """\
apiVersion: nope.example.com/v1
kind: Thing
metadata:
  name: a
"""


def test_kubectl_apply_of_a_kind_not_installed_says_no_matches(kubectl: Kubectl) -> None:
    result = kubectl.run("apply", "-f", "-", stdin=UNKNOWN, check=False)
    assert result.returncode != 0
    assert 'no matches for kind "Thing" in version "nope.example.com/v1"' in result.stderr
    assert "ensure CRDs are installed first" in result.stderr
    assert "openapi" not in result.stderr
    result = kubectl.run("apply", "--server-side", "-f", "-", stdin=UNKNOWN, check=False)
    assert 'no matches for kind "Thing"' in result.stderr


def test_kubectl_apply_of_installed_kinds_still_validates_on_the_server(kubectl: Kubectl) -> None:
    bad = UNKNOWN.replace("nope.example.com/v1", "test.aso.dev/v1").replace("Thing", "Widget")
    bad += "  namespace: default\nspec:\n  location: x\n  size: huge\n  bogus: 1\n"
    result = kubectl.run("apply", "-f", "-", stdin=bad, check=False)
    assert result.returncode != 0
    assert "spec.size: Unsupported value" in result.stderr or 'unknown field "spec.bogus"' in result.stderr
