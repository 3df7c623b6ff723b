"""The operator's behaviours end to end (issue: one generic reconciler for every kind)."""

from __future__ import annotations

import base64
import json
import pathlib
import socket
import threading
import time
from typing import Any

import pytest
from aso_testkinds.objects import RG, WIDGET, resource_group, widget

from aso.testing import OperatorProcess, create, ensure_namespace, get, ready_condition, wait_ready
from aso.testing.arm import ArmEmulatorHandle, ArmHttp
from aso.testing.certs import self_signed
from aso.testing.kube import KubeApi, create_secret, wait_for


def _rg_id(arm: ArmEmulatorHandle, name: str, subscription: str | None = None) -> str:
    return f"/subscriptions/{subscription or arm.subscription_id}/resourceGroups/{name}"


def _arm_body(arm: ArmEmulatorHandle, arm_id: str) -> dict[str, Any] | None:
    found = arm.control.get_resource(arm_id)
    return None if found is None else found.get("body", found)


def _puts(arm: ArmEmulatorHandle, resource_type: str) -> int:
    return arm.control.counts().get("PUT", resource_type)


def _list_keys(arm: ArmEmulatorHandle, arm_id: str) -> dict[str, Any]:
    """POST listKeys as any ARM client would, with a token of the default principal."""
    return ArmHttp(arm).call_json("POST", f"{arm_id}/listKeys", "2024-01-01")


def _reconciles(operator: OperatorProcess, kind: str) -> float:
    """Handler calls for ``kind`` so far (``aso_reconciles_total``, every result)."""
    prefix = f'aso_reconciles_total{{kind="{kind}",'
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in operator.metrics().splitlines() if line.startswith(prefix)
    )


def _patch(
    k8s: KubeApi, which: tuple[str, str, str], name: str, body: dict[str, Any], ns: str = "default"
) -> None:
    k8s.custom.patch_namespaced_custom_object(which[0], which[1], ns, which[2], name, body)


def test_update_no_drift_sync_and_drift_correction(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    aso_operator.env["AZURE_SYNC_PERIOD"] = "2s"
    aso_operator.start()
    create(k8s, resource_group("rg-sync", tags={"env": "dev"}))
    wait_ready(k8s, RG, "rg-sync")
    arm_id = _rg_id(arm_emulator, "rg-sync")

    _patch(k8s, RG, "rg-sync", {"spec": {"tags": {"env": "prod"}}})
    wait_for(lambda: (_arm_body(arm_emulator, arm_id) or {}).get("tags") == {"env": "prod"}, timeout=30)
    obj = wait_for(
        lambda: (o := get(k8s, RG, "rg-sync")) and o["status"].get("tags") == {"env": "prod"} and o
    )
    assert ready_condition(obj)["status"] == "True"
    assert ready_condition(obj)["observedGeneration"] == obj["metadata"]["generation"]

    # A sync with nothing changed reads Azure and writes nothing.
    arm_emulator.control.reset_counts()
    wait_for(
        lambda: arm_emulator.control.counts().get("GET", "microsoft.resources/resourcegroups") >= 2,
        timeout=30,
        what="two syncs (one GET each)",
    )
    assert arm_emulator.control.counts().get("PUT", "microsoft.resources/resourcegroups") == 0

    # Drift made out of band is put right at the next sync.
    arm_emulator.control.drift(arm_id, {"tags": {"env": "hacked"}})
    wait_for(lambda: (_arm_body(arm_emulator, arm_id) or {}).get("tags") == {"env": "prod"}, timeout=30)
    assert arm_emulator.control.counts().get("PUT", "microsoft.resources/resourcegroups") == 1


def test_a_sync_that_starts_a_long_update_follows_it_to_ready(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    """Drift found by a sync on a type whose updates are long-running: the update the sync
    started is followed to its end (no change handler is retrying it) and the object is Ready."""
    aso_operator.env["AZURE_SYNC_PERIOD"] = "2s"
    aso_operator.start()
    create(k8s, resource_group("rg-long"))
    wait_ready(k8s, RG, "rg-long")
    create(k8s, widget("w-long", owner="rg-long", size="Large"))
    arm_id = wait_ready(k8s, WIDGET, "w-long")["status"]["id"]
    arm_emulator.control.reset_counts()

    arm_emulator.control.drift(arm_id, {"properties": {"size": "Small"}})
    wait_for(
        lambda: ((_arm_body(arm_emulator, arm_id) or {}).get("properties") or {}).get("size") == "Large", 30
    )
    settled = wait_for(
        lambda: (
            (o := get(k8s, WIDGET, "w-long"))
            and ready_condition(o).get("status") == "True"
            and (o["status"].get("size") or "") == "Large"
            and o
        ),
        timeout=30,
        what="the widget Ready again after the update its sync started",
    )
    assert ready_condition(settled)["reason"] == "Succeeded"
    assert _puts(arm_emulator, "microsoft.asotest/widgets") == 1


def test_skip_policy_reads_only_and_detach_leaves_azure_alone(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    client = arm_emulator.resource_client()
    client.resource_groups.create_or_update(
        "rg-existing", {"location": "westus2", "tags": {"owner": "someone"}}
    )
    aso_operator.start()
    skip = {"serviceoperator.azure.com/reconcile-policy": "skip"}
    create(k8s, resource_group("rg-existing", annotations=skip, tags={"owner": "aso"}))
    obj = wait_ready(k8s, RG, "rg-existing")
    assert obj["status"]["tags"] == {"owner": "someone"}
    arm_id = _rg_id(arm_emulator, "rg-existing")
    assert _arm_body(arm_emulator, arm_id)["tags"] == {"owner": "someone"}  # type: ignore[index]
    assert _puts(arm_emulator, "microsoft.resources/resourcegroups") == 1  # only the SDK's own

    detach = {"serviceoperator.azure.com/reconcile-policy": "detach-on-delete"}
    create(k8s, resource_group("rg-detached", annotations=detach))
    wait_ready(k8s, RG, "rg-detached")
    for name in ("rg-existing", "rg-detached"):
        k8s.custom.delete_namespaced_custom_object(*RG[:2], "default", RG[2], name)
    wait_for(lambda: get(k8s, RG, "rg-existing") is None and get(k8s, RG, "rg-detached") is None, timeout=30)
    assert _arm_body(arm_emulator, arm_id) is not None
    assert _arm_body(arm_emulator, _rg_id(arm_emulator, "rg-detached")) is not None
    assert arm_emulator.control.counts().get("DELETE", "microsoft.resources/resourcegroups") == 0


def test_namespace_policy_applies_to_its_objects(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    ensure_namespace(k8s, "readonly", {"serviceoperator.azure.com/reconcile-policy": "skip"})
    aso_operator.start()
    create(k8s, resource_group("rg-absent", namespace="readonly"))
    wait_ready(k8s, RG, "rg-absent", namespace="readonly", status="False", reason="AzureResourceNotFound")
    assert _arm_body(arm_emulator, _rg_id(arm_emulator, "rg-absent")) is None


def test_owner_created_after_child_and_exports(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    ensure_namespace(k8s, "elsewhere")
    aso_operator.start()
    exports = {
        "secrets": {"primaryKey": {"name": "widget-keys", "key": "key"}},
        "configMaps": {"endpoint": {"name": "widget-info", "key": "url"}},
    }
    create(k8s, widget("w1", owner="rg-late", operatorSpec=exports))
    obj = wait_ready(k8s, WIDGET, "w1", status="False", reason="WaitingForOwner")
    assert ready_condition(obj)["severity"] == "Warning"

    # An owner of that name in another namespace is never used (its Azure name differs: one Azure
    # resource group is managed by one object).
    create(k8s, resource_group("rg-late", namespace="elsewhere", azureName="rg-late-elsewhere"))
    wait_ready(k8s, RG, "rg-late", namespace="elsewhere")
    tries = _reconciles(aso_operator, "Widget")
    wait_for(lambda: _reconciles(aso_operator, "Widget") > tries, timeout=60, what="another try of w1")
    assert ready_condition(get(k8s, WIDGET, "w1"))["reason"] == "WaitingForOwner"

    create(k8s, resource_group("rg-late"))
    obj = wait_ready(k8s, WIDGET, "w1", timeout=40)
    rg_id = _rg_id(arm_emulator, "rg-late")
    assert obj["status"]["id"].lower() == f"{rg_id}/providers/Microsoft.AsoTest/widgets/w1".lower()
    assert obj["status"]["endpoint"] == "https://w1.widgets.example"
    assert obj["metadata"]["ownerReferences"][0]["kind"] == "ResourceGroup"

    secret = k8s.core.read_namespaced_secret("widget-keys", "default")
    key = base64.b64decode(secret.data["key"]).decode()
    assert key == _list_keys(arm_emulator, obj["status"]["id"])["keys"][0]["value"]
    assert secret.metadata.owner_references[0].name == "w1"
    config = k8s.core.read_namespaced_config_map("widget-info", "default")
    assert config.data == {"url": "https://w1.widgets.example"}


def test_an_object_not_yet_written_to_azure_has_no_finalizer_and_deletes_at_once(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    """The finalizer comes with the ARM id, just before the first write to Azure: until then a
    delete has nothing to clean up, and the object is not held (nor patched once more per create)."""
    aso_operator.start()
    create(k8s, widget("w-early", owner="rg-never"))
    obj = wait_ready(k8s, WIDGET, "w-early", status="False", reason="WaitingForOwner")
    assert "serviceoperator.azure.com/finalizer" not in (obj["metadata"].get("finalizers") or [])
    k8s.custom.delete_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "w-early")
    wait_for(lambda: get(k8s, WIDGET, "w-early") is None, timeout=10, what="w-early gone")
    counts = arm_emulator.control.counts()
    assert [counts.get(m, "microsoft.asotest/widgets") for m in ("PUT", "DELETE")] == [0, 0]

    create(k8s, resource_group("rg-now"))
    create(k8s, widget("w-now", owner="rg-now"))
    obj = wait_ready(k8s, WIDGET, "w-now", timeout=40)
    assert obj["metadata"]["finalizers"] == ["serviceoperator.azure.com/finalizer"]


def test_deleting_owner_cascades_without_deleting_children_one_by_one(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    aso_operator.start()
    create(k8s, resource_group("rg-cascade"))
    create(k8s, widget("w-child", owner="rg-cascade"))
    wait_ready(k8s, WIDGET, "w-child", timeout=40)
    k8s.custom.delete_namespaced_custom_object(*RG[:2], "default", RG[2], "rg-cascade")
    k8s.custom.delete_namespaced_custom_object(*WIDGET[:2], "default", WIDGET[2], "w-child")
    wait_for(lambda: get(k8s, RG, "rg-cascade") is None and get(k8s, WIDGET, "w-child") is None, timeout=40)
    assert _arm_body(arm_emulator, _rg_id(arm_emulator, "rg-cascade")) is None
    assert arm_emulator.control.resources("Microsoft.AsoTest/widgets") == []
    assert arm_emulator.control.counts().get("DELETE", "microsoft.asotest/widgets") == 0


def test_credential_scopes(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    control = arm_emulator.control
    other_sub = "11111111-2222-3333-4444-555555555555"
    control.add_subscription(other_sub)
    control.add_principal("team-a", "team-a-secret", [other_sub], tenant_id=arm_emulator.tenant_id)
    control.add_principal("no-access", "no-access-secret", [], tenant_id=arm_emulator.tenant_id)
    ensure_namespace(k8s, "team-a")
    ensure_namespace(k8s, "locked")
    cred = {"AZURE_TENANT_ID": arm_emulator.tenant_id, "AZURE_SUBSCRIPTION_ID": other_sub}
    team_a = {**cred, "AZURE_CLIENT_ID": "team-a", "AZURE_CLIENT_SECRET": "team-a-secret"}
    create_secret(k8s, "aso-credential", "team-a", team_a)
    no_access = {**cred, "AZURE_CLIENT_ID": "no-access", "AZURE_CLIENT_SECRET": "no-access-secret"}
    create_secret(k8s, "aso-credential", "locked", no_access)
    create_secret(k8s, "per-resource", "default", team_a)
    aso_operator.start()

    create(k8s, resource_group("rg-global"))
    create(k8s, resource_group("rg-team", namespace="team-a"))
    create(k8s, resource_group("rg-locked", namespace="locked"))
    create(
        k8s,
        resource_group(
            "rg-annotated", annotations={"serviceoperator.azure.com/credential-from": "per-resource"}
        ),
    )
    create(
        k8s, resource_group("rg-missing", annotations={"serviceoperator.azure.com/credential-from": "nope"})
    )

    wait_ready(k8s, RG, "rg-global")
    assert _arm_body(arm_emulator, _rg_id(arm_emulator, "rg-global")) is not None
    team = wait_ready(k8s, RG, "rg-team", namespace="team-a")
    assert team["status"]["id"].lower() == _rg_id(arm_emulator, "rg-team", other_sub).lower()
    annotated = wait_ready(k8s, RG, "rg-annotated")
    assert annotated["status"]["id"].lower() == _rg_id(arm_emulator, "rg-annotated", other_sub).lower()
    locked = wait_ready(
        k8s, RG, "rg-locked", namespace="locked", status="False", reason="AuthorizationFailed"
    )
    assert ready_condition(locked)["severity"] == "Warning"
    missing = wait_ready(k8s, RG, "rg-missing", status="False", reason="SecretNotFound")
    assert "nope" in ready_condition(missing)["message"]

    # A Secret of another namespace can never be named: the annotation is a name in this namespace.
    create(
        k8s,
        resource_group(
            "rg-cross", annotations={"serviceoperator.azure.com/credential-from": "team-a/aso-credential"}
        ),
    )
    wait_ready(k8s, RG, "rg-cross", status="False", reason="SecretNotFound")
    assert _arm_body(arm_emulator, _rg_id(arm_emulator, "rg-cross", other_sub)) is None

    # A child whose credential is for another subscription than its owner's is refused.
    per_resource = {"serviceoperator.azure.com/credential-from": "per-resource"}
    create(k8s, widget("w-mismatch", owner="rg-global", annotations=per_resource))
    mismatch = wait_ready(k8s, WIDGET, "w-mismatch", status="False", reason="SubscriptionMismatch")
    assert ready_condition(mismatch)["severity"] == "Error"
    assert arm_emulator.control.resources("Microsoft.AsoTest/widgets") == []


def test_throttling_and_server_errors_are_retried(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    arm_emulator.control.throttle("resourcegroups/rg-flaky", method="PUT", count=1, retry_after=1)
    arm_emulator.control.inject_fault("resourcegroups/rg-flaky", method="PUT", count=1, status=500)
    aso_operator.start()
    create(k8s, resource_group("rg-flaky"))
    wait_ready(k8s, RG, "rg-flaky", timeout=40)
    assert _puts(arm_emulator, "microsoft.resources/resourcegroups") == 3
    events = k8s.core.list_namespaced_event("default").items
    reasons = {e.reason for e in events if e.involved_object.name == "rg-flaky"}
    assert {"SubscriptionRequestsThrottled", "Succeeded"} <= reasons


def test_failed_operation_reports_arm_error(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    arm_emulator.control.fail_next_operation(
        "Microsoft.AsoTest/widgets",
        "InvalidParameter",
        "The size 'Small' is not offered in westus2.",
        method="PUT",
    )
    aso_operator.start()
    create(k8s, resource_group("rg-fail"))
    create(k8s, widget("w-fail", owner="rg-fail"))
    obj = wait_ready(k8s, WIDGET, "w-fail", status="False", reason="InvalidParameter", timeout=40)
    condition = ready_condition(obj)
    assert condition["severity"] == "Error"
    assert "The size 'Small' is not offered in westus2." in condition["message"]
    assert "[Widget default/w-fail]" in aso_operator.log()  # log lines name the object
    puts = _puts(arm_emulator, "microsoft.asotest/widgets")
    tries = _reconciles(aso_operator, "Widget")
    # Later work is done (a barrier object), and w1 was not tried again: it waits for a spec change.
    create(k8s, resource_group("rg-fail-barrier"))
    wait_ready(k8s, RG, "rg-fail-barrier")
    assert _reconciles(aso_operator, "Widget") == tries
    assert _puts(arm_emulator, "microsoft.asotest/widgets") == puts

    _patch(k8s, WIDGET, "w-fail", {"spec": {"size": "Large"}})
    wait_ready(k8s, WIDGET, "w-fail", timeout=40)


def test_killed_mid_operation_resumes_without_second_put(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    control = arm_emulator.control
    aso_operator.start()
    create(k8s, resource_group("rg-kill"))
    wait_ready(k8s, RG, "rg-kill")
    control.set_lro("Microsoft.AsoTest/widgets", "PUT", mode="async", polls=1, delay=6, retry_after=1)
    create(k8s, widget("w-kill", owner="rg-kill"))
    wait_for(
        lambda: (
            "aso.dev/operation" in ((get(k8s, WIDGET, "w-kill") or {})["metadata"].get("annotations") or {})
        ),
        timeout=30,
    )
    aso_operator.kill()
    assert _puts(arm_emulator, "microsoft.asotest/widgets") == 1

    aso_operator.start()
    obj = wait_ready(k8s, WIDGET, "w-kill", timeout=40)
    assert _puts(arm_emulator, "microsoft.asotest/widgets") == 1
    assert "aso.dev/operation" not in obj["metadata"]["annotations"]
    assert obj["metadata"]["annotations"]["aso.dev/origin"] == "created"


class _Listener:
    """A loopback TCP listener that records whether anybody connected (and what they sent)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.received.append(conn.recv(65536))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def test_operation_url_on_another_host_is_refused(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    listener = _Listener()
    try:
        aso_operator.start()
        create(k8s, resource_group("rg-evil"))
        wait_ready(k8s, RG, "rg-evil")
        rg_id = _rg_id(arm_emulator, "rg-evil")
        record = {
            "method": "PUT",
            "arm_id": f"{rg_id}/providers/Microsoft.AsoTest/widgets/w-evil",
            "api_version": "2024-01-01",
            "status_url": f"https://127.0.0.1:{listener.port}/steal?api-version=1",
            "location_url": None,
        }
        create(k8s, widget("w-evil", owner="rg-evil", annotations={"aso.dev/operation": json.dumps(record)}))
        obj = wait_ready(k8s, WIDGET, "w-evil", status="False", reason="OperationRejected", timeout=30)
        assert "not on the ARM endpoint" in ready_condition(obj)["message"]
        assert listener.received == []
        assert _puts(arm_emulator, "microsoft.asotest/widgets") == 0
    finally:
        listener.close()


def test_immutable_fields_are_refused(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    aso_operator.start()
    create(k8s, resource_group("rg-fixed"))
    wait_ready(k8s, RG, "rg-fixed")
    puts = _puts(arm_emulator, "microsoft.resources/resourcegroups")

    _patch(k8s, RG, "rg-fixed", {"spec": {"azureName": "rg-renamed"}})
    obj = wait_ready(k8s, RG, "rg-fixed", status="False", reason="ImmutableFieldChanged")
    assert "azureName" in ready_condition(obj)["message"]
    assert ready_condition(obj)["severity"] == "Error"
    assert _arm_body(arm_emulator, _rg_id(arm_emulator, "rg-renamed")) is None

    _patch(k8s, RG, "rg-fixed", {"spec": {"azureName": None, "location": "eastus"}})
    message = wait_for(
        lambda: "spec.location" in (m := ready_condition(get(k8s, RG, "rg-fixed")).get("message", "")) and m
    )
    assert "cannot change to 'eastus'" in message
    assert _puts(arm_emulator, "microsoft.resources/resourcegroups") == puts


@pytest.mark.parametrize("kind", ["certificate", "workload-identity"])
def test_global_certificate_and_workload_identity_credentials(
    kind: str,
    k8s: KubeApi,
    arm_emulator: ArmEmulatorHandle,
    aso_operator: OperatorProcess,
    tmp_path: pathlib.Path,
) -> None:
    import jwt

    cert = self_signed(f"aso-{kind}")
    key_pem, cert_pem = cert.key_pem, cert.cert_pem
    client_id = f"aso-{kind}"
    env = {"AZURE_CLIENT_ID": client_id, "AZURE_CLIENT_SECRET": ""}
    if kind == "certificate":
        arm_emulator.control.add_principal(
            client_id,
            None,
            [arm_emulator.subscription_id],
            tenant_id=arm_emulator.tenant_id,
            certificate_pem=cert_pem.decode(),
        )
        path = tmp_path / "client.pem"
        path.write_bytes(key_pem + cert_pem)
        env["AZURE_CLIENT_CERTIFICATE_PATH"] = str(path)
    else:
        issuer, subject = "https://oidc.cluster.test", "system:serviceaccount:aso-system:aso-operator"
        public_pem = cert.public_key_pem
        arm_emulator.control.add_principal(
            client_id,
            None,
            [arm_emulator.subscription_id],
            tenant_id=arm_emulator.tenant_id,
            federated=[
                {
                    "issuer": issuer,
                    "subject": subject,
                    "audience": "api://AzureADTokenExchange",
                    "public_key_pem": public_pem.decode(),
                }
            ],
        )
        now = int(time.time())
        token = jwt.encode(
            {
                "iss": issuer,
                "sub": subject,
                "aud": "api://AzureADTokenExchange",
                "iat": now,
                "exp": now + 3600,
            },
            key_pem,
            algorithm="RS256",
        )
        path = tmp_path / "token"
        path.write_text(token)
        env["AZURE_FEDERATED_TOKEN_FILE"] = str(path)
    aso_operator.env.update(env)
    aso_operator.start()
    create(k8s, resource_group(f"rg-{kind}"))
    wait_ready(k8s, RG, f"rg-{kind}")
    assert _arm_body(arm_emulator, _rg_id(arm_emulator, f"rg-{kind}")) is not None


def test_existing_resource_is_adopted_and_left_unwritten_when_equal(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    arm_emulator.resource_client().resource_groups.create_or_update(
        "rg-adopt", {"location": "westus2", "tags": {"a": "b"}}
    )
    puts = _puts(arm_emulator, "microsoft.resources/resourcegroups")
    aso_operator.start()
    create(k8s, resource_group("rg-adopt", location="West US 2", tags={"a": "b"}))
    obj = wait_ready(k8s, RG, "rg-adopt")
    assert obj["metadata"]["annotations"]["aso.dev/origin"] == "adopted"
    assert _puts(arm_emulator, "microsoft.resources/resourcegroups") == puts
    metrics = aso_operator.metrics()
    assert (
        'aso_arm_requests_total{code="200",method="GET",resource_type="Microsoft.Resources/resourceGroups"}'
        in metrics
    )
    assert 'aso_reconciles_total{kind="ResourceGroup",result="success"}' in metrics
    assert 'aso_objects{kind="ResourceGroup",ready="True"} 1.0' in metrics


def test_kind_extensions_shape_the_body_and_classify_errors(
    k8s: KubeApi, arm_emulator: ArmEmulatorHandle, aso_operator: OperatorProcess
) -> None:
    # A 400 the generic classification would call fatal; the Widget's classify_error says it heals.
    arm_emulator.control.fail_next_operation(
        "Microsoft.AsoTest/widgets", "WidgetQuotaReached", "Too many widgets right now.", method="PUT"
    )
    aso_operator.start()
    create(k8s, resource_group("rg-ext"))
    create(k8s, widget("w-ext", owner="rg-ext", tags={"team": "a"}))
    obj = wait_ready(k8s, WIDGET, "w-ext", timeout=40)
    assert obj["status"]["tags"] == {"team": "a", "managed-by": "aso"}
    assert _puts(arm_emulator, "microsoft.asotest/widgets") == 2
    events = k8s.core.list_namespaced_event("default").items
    quota = [e for e in events if e.involved_object.name == "w-ext" and e.reason == "WidgetQuotaReached"]
    assert quota
    assert quota[0].type == "Warning"
