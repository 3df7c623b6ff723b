"""Every ASO v2 documentdb sample, applied unchanged to the local sandbox, reaches Ready.

The sample files of one folder (an account and its children) are applied together with
``kubectl apply --validate=strict -f FILE``, in the namespace they name, and each is awaited;
then the account object is deleted, which must take every database and container with it, in
Azure and in Kubernetes, before the next folder is applied (the folders reuse names). One line
per sample is printed.
"""

from __future__ import annotations

import copy
import os
import pathlib
import shutil
import subprocess
import time
from typing import Any

import kubernetes
import pytest
import yaml

from aso.testing import ArmEmulatorHandle, KubeApi, OperatorProcess, create, get, wait_for, wait_ready

pytestmark = pytest.mark.timeout(240)

KUBECTL = shutil.which("kubectl")

GROUP = "documentdb.azure.com"
SAMPLES = (
    pathlib.Path(__file__).resolve().parents[3]
    / ".."
    / "shared"
    / "conformance"
    / "aso-samples"
    / "documentdb"
)
PLURALS = {
    "DatabaseAccount": "databaseaccounts",
    "SqlDatabase": "sqldatabases",
    "SqlDatabaseContainer": "sqldatabasecontainers",
    "MongodbDatabase": "mongodbdatabases",
    "MongodbDatabaseCollection": "mongodbdatabasecollections",
}
FOLDERS = (
    "sqldatabase/v1api20231115",
    "sqldatabase/v1api20240815",
    "mongodb/v1api20231115",
    "mongodb/v1api20240815",
)
RG = ("resources.azure.com", "v1api20200601", "resourcegroups")

#: Samples that cannot apply unchanged, with the API server's refusal: `serverVersion: 7.0` is a
#: YAML number, and the property is a string enum ("7.0") in ASO's CRD as in ours. kubectl (and
#: any client that does not decode into ASO's Go types) sends 7, and a real API server refuses it
#: the same way.
REFUSED_AT_APPLY = {
    "mongodb/v1api20240815/v1api20240815_databaseaccount.yaml": "spec.apiProperties.serverVersion",
}


def _which(doc: dict[str, Any]) -> tuple[str, str, str]:
    return (GROUP, doc["apiVersion"].split("/")[1], PLURALS[doc["kind"]])


def _load(path: pathlib.Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def _stand_in_owners(folder: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Owners a sample names that its folder does not hold (or cannot apply), supplied by the test
    as the folder's own account sample under that name, so the children apply unchanged."""
    account = next(d for d in docs if d["kind"] == "DatabaseAccount")
    names = {d["metadata"]["name"] for d in docs}
    extra: list[dict[str, Any]] = []
    for doc in docs:
        owner = doc["spec"]["owner"]["name"]
        if doc["kind"] in ("SqlDatabase", "MongodbDatabase") and owner not in names:
            stand_in = copy.deepcopy(account)
            stand_in["metadata"]["name"] = owner
            extra.append(stand_in)
            names.add(owner)
    if any(key.startswith(f"{folder}/") for key in REFUSED_AT_APPLY):
        # The refused account sample as its author meant it: the server version as text.
        meant = copy.deepcopy(account)
        version = meant["spec"]["apiProperties"]["serverVersion"]
        meant["spec"]["apiProperties"]["serverVersion"] = f"{version:.1f}"
        extra.append(meant)
    return extra


def _apply_file(kube_api: KubeApi, path: pathlib.Path, doc: dict[str, Any], home: pathlib.Path) -> str | None:
    """Apply a sample file as a user does: ``kubectl apply --validate=strict -f FILE`` (the Python
    client with the parsed file where kubectl is not installed; CI requires kubectl). The
    refusal's text, or None when applied."""
    if KUBECTL is None:
        assert os.environ.get("CI") != "true", "kubectl is not on PATH, and CI=true requires it"
        try:
            create(kube_api, doc, plural=PLURALS[doc["kind"]])
        except kubernetes.client.ApiException as exc:
            return str(exc.body)
        return None
    env = {**os.environ, "KUBECONFIG": str(kube_api.kubeconfig), "HOME": str(home)}
    done = subprocess.run(
        [KUBECTL, "apply", "--validate=strict", "-f", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return None if done.returncode == 0 else done.stderr


def _azure_children(arm: ArmEmulatorHandle, account_id: str) -> list[str]:
    return [r["id"] for r in arm.control.resources() if r["id"].lower().startswith(account_id.lower() + "/")]


def _delete_accounts(kube_api: KubeApi, docs: list[dict[str, Any]]) -> list[str]:
    """Delete every account object among ``docs``; the ARM ids of those that existed."""
    ids = []
    for doc in docs:
        if doc["kind"] != "DatabaseAccount":
            continue
        group, version, plural = _which(doc)
        obj = get(kube_api, (group, version, plural), doc["metadata"]["name"])
        if obj is not None and obj["metadata"].get("deletionTimestamp") is None:
            ids.append(obj["status"]["id"])
            kube_api.custom.delete_namespaced_custom_object(
                group, version, "default", plural, doc["metadata"]["name"]
            )
    return ids


def test_every_documentdb_sample_becomes_ready(
    arm_emulator: ArmEmulatorHandle,
    kube_api: KubeApi,
    running_operator: OperatorProcess,
    capsys: pytest.CaptureFixture[str],
    tmp_path: pathlib.Path,
) -> None:
    rg = {
        "apiVersion": "resources.azure.com/v1api20200601",
        "kind": "ResourceGroup",
        "metadata": {"name": "aso-sample-rg", "namespace": "default"},
        "spec": {"location": "eastus"},
    }
    create(kube_api, rg, plural="resourcegroups")
    wait_ready(kube_api, RG, "aso-sample-rg", timeout=60)
    results: list[str] = []
    for folder in FOLDERS:
        paths = sorted((SAMPLES / folder).glob("*.yaml"))
        assert paths, f"no samples under {SAMPLES / folder}"
        docs = [_load(p) for p in paths]
        started = time.monotonic()
        refusals: dict[str, str] = {}
        for path, doc in zip(paths, docs, strict=True):
            key = f"{folder}/{path.name}"
            refusal = _apply_file(kube_api, path, doc, tmp_path)
            if key in REFUSED_AT_APPLY:
                assert refusal is not None, f"{key} was accepted"
                assert REFUSED_AT_APPLY[key] in refusal, refusal
                refusals[key] = " ".join(refusal.split())
            else:
                assert refusal is None, f"{key}: {refusal}"
        stand_ins = _stand_in_owners(folder, docs)
        for doc in stand_ins:
            create(kube_api, doc, plural=PLURALS[doc["kind"]])
        for path, doc in zip(paths, docs, strict=True):
            key = f"{folder}/{path.name}"
            if key in REFUSED_AT_APPLY:
                results.append(f"{key}: failing: refused at apply: {refusals[key]}")
                continue
            obj = wait_ready(kube_api, _which(doc), doc["metadata"]["name"], timeout=90)
            assert obj["status"]["id"]
            note = ""
            owner = doc["spec"]["owner"].get("name")
            if any(owner == extra["metadata"]["name"] for extra in stand_ins):
                note = f"; its owner {owner} supplied by the test"
            results.append(
                f"{key}: Ready ({time.monotonic() - started:.1f} s after the folder was applied{note})"
            )

        # Deleting the account takes its databases and containers with it, in Azure and here.
        account_ids = _delete_accounts(kube_api, docs + stand_ins)
        for doc in docs + stand_ins:
            wait_for(
                lambda d=doc: get(kube_api, _which(d), d["metadata"]["name"]) is None,  # type: ignore[misc]
                timeout=60,
                what=f"{doc['kind']} {doc['metadata']['name']} gone",
            )
        for account_id in account_ids:
            assert arm_emulator.control.get_resource(account_id) is None
            assert _azure_children(arm_emulator, account_id) == []
    with capsys.disabled():
        print()
        for line in results:
            print(f"[documentdb sample] {line}")
