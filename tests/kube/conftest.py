"""Shared fixtures of the API server tests: the Widget test CRD (shaped like ASO's CRDs)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml

from aso.schemas import resource_schema
from aso.testing.kube import KubeApi

Json = dict[str, Any]

GROUP = "test.aso.dev"
PLURAL = "widgets"

_CONDITION: Json = {
    "type": "object",
    "required": ["type", "status"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "string"},
        "severity": {"type": "string"},
        "reason": {"type": "string"},
        "message": {"type": "string"},
        "lastTransitionTime": {"type": "string", "format": "date-time"},
        "observedGeneration": {"type": "integer"},
    },
}


def served_version(
    name: str, schema: Json, *, storage: bool = True, subresources: Json | None = None
) -> Json:
    """One served version of a CRD; a status subresource unless ``subresources`` says otherwise."""
    return {
        "name": name,
        "served": True,
        "storage": storage,
        "schema": {"openAPIV3Schema": schema},
        "subresources": {"status": {}} if subresources is None else subresources,
    }


def group_crd(kind: str, versions: list[Json], *, names: Json | None = None) -> Json:
    """A namespaced CRD of the test group for ``kind`` (plural: lower-case ``kind`` + ``s``)."""
    plural = f"{kind.lower()}s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                **(names or {}),
            },
            "versions": versions,
        },
    }


_SCHEMA: Json = resource_schema(
    spec={
        "type": "object",
        "required": ["location", "size"],
        "properties": {
            "azureName": {"type": "string", "maxLength": 20},
            "location": {"type": "string", "minLength": 1},
            "size": {"type": "string", "enum": ["small", "medium", "large"]},
            "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "owner": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "armId": {"type": "string"}},
            },
            "settings": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "port": {"x-kubernetes-int-or-string": True},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}},
                },
            },
        },
    },
    status={
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {"conditions": {"type": "array", "items": _CONDITION}, "id": {"type": "string"}},
    },
)

COLUMNS: list[Json] = [
    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"},
    {"name": "Severity", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].severity"},
    {"name": "Reason", "type": "string", "jsonPath": ".status.conditions[?(@.type=='Ready')].reason"},
    {
        "name": "Message",
        "type": "string",
        "priority": 1,
        "jsonPath": ".status.conditions[?(@.type=='Ready')].message",
    },
]


def widget_crd(*, conversion: Json | None = None, storage: str = "v1") -> Json:
    """The Widget CRD: v1 and v2 served, ``storage`` stored, status subresource, ASO-like columns."""
    versions = []
    for name in ("v1", "v2"):
        schema = copy.deepcopy(_SCHEMA)
        if name == "v2":
            schema["properties"]["spec"]["properties"]["zone"] = {"type": "string"}
        version = served_version(name, schema, storage=name == storage)
        version["additionalPrinterColumns"] = copy.deepcopy(COLUMNS)
        versions.append(version)
    crd = group_crd("Widget", versions, names={"shortNames": ["wdg"], "categories": ["azure"]})
    if conversion is not None:
        crd["spec"]["conversion"] = conversion
    return crd


def widget(name: str, namespace: str = "default", version: str = "v1", **spec: Any) -> Json:
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"location": "westeurope", "size": "small", **spec},
    }


@pytest.fixture
def kube_crds() -> list[Json]:
    return [widget_crd()]


@pytest.fixture
def custom(kube_api: KubeApi) -> Any:
    return kube_api.custom


@pytest.fixture
def core(kube_api: KubeApi) -> Any:
    return kube_api.core


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    @property
    def warnings(self) -> list[str]:
        return list(self.headers.getlist("Warning")) if hasattr(self.headers, "getlist") else []


def raw(
    api: KubeApi,
    method: str,
    path: str,
    body: Any = None,
    *,
    content_type: str = "application/json",
    accept: str = "",
) -> Reply:
    """One plain HTTP request (status, JSON body, headers) for checks the typed client hides."""
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    data = None if body is None else (body if isinstance(body, bytes | str) else json.dumps(body))
    response = _POOL.request(method, api.url + path, body=data, headers=headers, timeout=10.0)
    text = response.data.decode()
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Reply(status=response.status, body=parsed, headers=response.headers)


_POOL = urllib3.PoolManager()


def watch_events(
    api: KubeApi, path: str, until: Callable[[list[Json]], bool], accept: str = ""
) -> list[Json]:
    """Watch events read from a raw stream (what kopf and kubectl parse) until ``until(events)``
    holds or the server ends the stream; ``path`` carries ``?watch=true`` and the query."""
    response = _POOL.request(
        "GET",
        api.url + path,
        headers={"Accept": accept} if accept else {},
        preload_content=False,
        timeout=urllib3.Timeout(read=10),
    )
    events: list[Json] = []
    buffer = b""
    try:
        for chunk in response.stream(1024):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                events.append(json.loads(line))
                if until(events):
                    return events
        return events
    finally:
        response.release_conn()


KUBECTL = shutil.which("kubectl")


class Kubectl:
    def __init__(self, api: KubeApi, home: Path) -> None:
        self.api = api
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        # A private HOME: kubectl's discovery cache must not outlive this server.
        self.env = {**os.environ, "KUBECONFIG": str(api.kubeconfig), "HOME": str(home)}
        self.log: list[str] = []

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        result = subprocess.run(
            [KUBECTL, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=timeout
        )
        self.log.append(f"$ kubectl {' '.join(args)}\n{result.stdout}{result.stderr}")
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
        return result

    def apply(self, *docs: dict[str, Any], check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("apply", "-f", "-", stdin=yaml.safe_dump_all(docs), check=check)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        assert KUBECTL is not None
        return subprocess.Popen(
            [KUBECTL, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


@pytest.fixture
def kubectl(kube_api: KubeApi, tmp_path: Path) -> Iterator[Kubectl]:
    if KUBECTL is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is not on PATH, and CI=true requires the kubectl tests to run")
        pytest.skip("kubectl is not on PATH (install it to run these tests; under CI=true they fail instead)")
    tool = Kubectl(kube_api, tmp_path / "home")
    yield tool
    print("\n".join(tool.log))
