"""The committed schemas are what `aso schemas` generates from the SDK release pinned in
schemagen.yaml (installed into a throwaway venv), so they can never drift from their source."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)

PLUGIN = Path(__file__).resolve().parents[1]
SCHEMAS = PLUGIN / "src" / "aso_storage" / "schemas"


def test_committed_schemas_are_fresh() -> None:
    check = subprocess.run(
        [sys.executable, "-m", "aso", "schemas", "--check", str(PLUGIN)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_kind_and_version_has_a_schema_from_the_pinned_release() -> None:
    names = sorted(p.name for p in SCHEMAS.glob("*.json"))
    kinds = [
        "storageaccount",
        "storageaccountsblobservice",
        "storageaccountsblobservicescontainer",
        "storageaccountsmanagementpolicy",
        "storageaccountsqueueservice",
        "storageaccountsqueueservicesqueue",
    ]
    versions = ["v1api20210401", "v1api20220901", "v1api20230101", "v20230101"]
    assert names == sorted(f"{k}.{v}.json" for k in kinds for v in versions)
    for path in SCHEMAS.glob("*.json"):
        assert json.loads(path.read_text())["source"].startswith("azure-mgmt-storage==21.1.0 "), path.name
