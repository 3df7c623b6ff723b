"""The operator's kubeconfig loading: the current context's server, CA, token and namespace, and an
inline client key that is private to the process and gone once it ends."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import stat
import subprocess
import sys

import pytest
import yaml

from aso.operator.kubeapi import KubeApiError, load_connection

pytestmark = pytest.mark.timeout(60)

KEY = b"-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n"
CERT = b"-----BEGIN CERTIFICATE-----\nnot-a-real-cert\n-----END CERTIFICATE-----\n"


def _kubeconfig(tmp_path: pathlib.Path, user: dict[str, str], namespace: str | None = None) -> str:
    context: dict[str, str] = {"cluster": "c", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {
                    "server": "https://127.0.0.1:6443/",
                    "certificate-authority-data": base64.b64encode(CERT).decode(),
                },
            }
        ],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": context}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_token_and_namespace_of_the_current_context(tmp_path: pathlib.Path) -> None:
    connection = load_connection(_kubeconfig(tmp_path, {"token": "t0ken"}, namespace="ops"))
    assert connection.server == "https://127.0.0.1:6443"
    assert connection.token == "t0ken"
    assert connection.default_namespace == "ops"
    assert connection.ca_path is not None
    assert pathlib.Path(connection.ca_path).read_bytes() == CERT


def test_inline_client_key_is_private_and_gone_when_the_process_ends(tmp_path: pathlib.Path) -> None:
    user = {
        "client-certificate-data": base64.b64encode(CERT).decode(),
        "client-key-data": base64.b64encode(KEY).decode(),
    }
    path = _kubeconfig(tmp_path, user)
    code = (
        "import json, os, stat, sys; from aso.operator.kubeapi import load_connection; "
        f"c = load_connection({path!r}); "
        "print(json.dumps({'key': c.key_path, 'cert': c.cert_path, "
        "'mode': stat.S_IMODE(os.stat(c.key_path).st_mode), "
        "'data': open(c.key_path, 'rb').read().decode()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["data"] == KEY.decode()
    assert seen["mode"] & (stat.S_IRWXG | stat.S_IRWXO) == 0  # the owner's alone
    assert not os.path.exists(seen["key"])  # removed at exit
    assert not os.path.exists(seen["cert"])


def test_an_unreadable_kubeconfig_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(KubeApiError, match="cannot load kubeconfig"):
        load_connection(str(tmp_path / "missing"))
