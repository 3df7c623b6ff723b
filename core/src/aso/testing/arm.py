"""Fixtures and control-API client for the ARM emulator.

``arm_emulator`` (function scope) hands a test an :class:`ArmEmulatorHandle`: the emulator's
HTTPS endpoint, CA bundle, default principal, a typed :class:`ArmControlClient`, and helpers
that build real azure-identity credentials and Azure SDK clients pointed at it. One emulator
serves the whole session (``arm_emulator_session``); it is reset before each test.

The emulator runs in a background thread of the test process (its own event loop), so
synchronous SDK calls in the test never block it. Set ``ASO_ARM_EMULATOR=subprocess`` to run
it as a separate process instead (``python -m aso.sandbox.arm``).
"""

from __future__ import annotations

import json
import os
import shlex
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from aso.common import LoopThread, stop_process

ARM_SCOPE = "https://management.azure.com/.default"
T = TypeVar("T")


class ControlApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RequestCounts:
    """Requests seen by the emulator: ``by_method[method][lower-cased type] -> count``."""

    total: int
    by_method: dict[str, dict[str, int]]

    def get(self, method: str, resource_type: str) -> int:
        return self.by_method.get(method.upper(), {}).get(resource_type.lower(), 0)

    def of_type(self, resource_type: str) -> int:
        t = resource_type.lower()
        return sum(v.get(t, 0) for v in self.by_method.values())


class ArmControlClient:
    """Typed client of the emulator's ``/_emulator/`` control API; usable from any process."""

    def __init__(self, endpoint: str, ca_bundle: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self.base = endpoint.rstrip("/") + "/_emulator"
        self._ssl = ssl.create_default_context(cafile=str(ca_bundle))
        self._timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, context=self._ssl, timeout=self._timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raw = err.read()
            raise ControlApiError(err.code, json.loads(raw) if raw else None) from None
        return json.loads(raw) if raw else None

    # Emulator ---------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/info")
        return result

    def reset(self) -> None:
        """Forget resources, operations, faults, failure rules, counts and LRO overrides."""
        self._call("POST", "/reset")

    # Identity ---------------------------------------------------------------------------

    def add_principal(
        self,
        client_id: str,
        client_secret: str | None = None,
        subscriptions: Sequence[str] = (),
        *,
        tenant_id: str | None = None,
        certificate_pem: str | None = None,
        federated: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """Add (or replace) a principal allowed to use ``subscriptions``."""
        body: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "subscriptions": list(subscriptions),
            "certificate_pem": certificate_pem,
            "federated": list(federated),
        }
        if tenant_id:
            body["tenant_id"] = tenant_id
        result: dict[str, Any] = self._call("POST", "/principals", body)
        return result

    def remove_principal(self, client_id: str, tenant_id: str | None = None) -> None:
        self._call(
            "DELETE", f"/principals/{client_id}", query={"tenant_id": tenant_id} if tenant_id else None
        )

    def principals(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/principals")["value"]
        return result

    def add_subscription(
        self,
        subscription_id: str,
        *,
        principals: Sequence[str] = (),
        tenant_id: str | None = None,
        display_name: str | None = None,
    ) -> dict[str, Any]:
        """Register a subscription and grant it to the given principals (client ids)."""
        body: dict[str, Any] = {"subscription_id": subscription_id, "principals": list(principals)}
        if tenant_id:
            body["tenant_id"] = tenant_id
        if display_name:
            body["display_name"] = display_name
        result: dict[str, Any] = self._call("POST", "/subscriptions", body)
        return result

    # Faults -----------------------------------------------------------------------------

    def inject_fault(
        self,
        path: str = ".*",
        *,
        method: str = "*",
        count: int = 1,
        action: str = "status",
        status: int = 500,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> dict[str, Any]:
        """Make the next ``count`` requests whose ``method`` (``*``, ``GET``, ``PUT|DELETE``)
        and path+query (regex, searched case-insensitively) match fail.

        ``action``: ``status`` answers ``status`` with an ARM error (``code``/``message``
        default to ARM's for that status), ``reset`` drops the connection, ``slow`` waits
        ``delay`` seconds and then answers normally.
        """
        body = {
            "path": path,
            "method": method,
            "count": count,
            "action": action,
            "status": status,
            "code": code,
            "message": message,
            "retry_after": retry_after,
            "delay": delay,
        }
        result: dict[str, Any] = self._call("POST", "/faults", body)
        return result

    def throttle(
        self, path: str = ".*", *, method: str = "*", count: int = 1, retry_after: int = 1
    ) -> dict[str, Any]:
        """429 ``SubscriptionRequestsThrottled`` with ``Retry-After`` for the next matching requests."""
        return self.inject_fault(path, method=method, count=count, status=429, retry_after=retry_after)

    def reset_connection(self, path: str = ".*", *, method: str = "*", count: int = 1) -> dict[str, Any]:
        return self.inject_fault(path, method=method, count=count, action="reset")

    def slow_down(
        self, path: str = ".*", *, delay: float, method: str = "*", count: int = 1
    ) -> dict[str, Any]:
        return self.inject_fault(path, method=method, count=count, action="slow", delay=delay)

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/faults")["value"]
        return result

    def clear_faults(self) -> None:
        """Disarm every fault and failure rule."""
        self._call("DELETE", "/faults")

    def fail_next_operation(
        self,
        resource_type: str,
        code: str,
        message: str,
        *,
        method: str = "*",
        count: int = 1,
        status: int = 400,
    ) -> dict[str, Any]:
        """The next ``count`` PUT/PATCH/DELETE (``method``) of ``resource_type`` end Failed.

        Asynchronous types: the operation ends ``Failed`` with ``{code, message}`` and the
        resource's ``provisioningState`` becomes ``Failed``. Synchronous types: the request is
        answered ``status`` with that error.
        """
        body = {
            "type": resource_type,
            "code": code,
            "message": message,
            "method": method,
            "count": count,
            "status": status,
        }
        result: dict[str, Any] = self._call("POST", "/failures", body)
        return result

    def set_lro(self, resource_type: str, method: str = "PUT", **settings: Any) -> dict[str, Any]:
        """How ``method`` completes for ``resource_type`` from now on (until :meth:`reset`).

        Settings are those of :class:`aso.sandbox.arm.LroSpec`: ``mode`` (``sync``/``async``),
        ``polls``, ``delay``, ``retry_after``, ``headers`` (``Azure-AsyncOperation``,
        ``Location``), ``create_status``, ``update_status``, ``status``, ``accepted_body``.
        """
        result: dict[str, Any] = self._call(
            "PUT", "/lro", {"type": resource_type, "method": method, **settings}
        )
        return result

    # Inspection and drift ---------------------------------------------------------------

    def counts(self) -> RequestCounts:
        data = self._call("GET", "/counts")
        return RequestCounts(total=int(data["total"]), by_method=data["counts"])

    def reset_counts(self) -> None:
        self._call("DELETE", "/counts")

    def resources(self, resource_type: str | None = None) -> list[dict[str, Any]]:
        """Every stored resource as ``{"id", "type", "body"}``."""
        result: list[dict[str, Any]] = self._call(
            "GET", "/resources", query={"type": resource_type} if resource_type else None
        )["value"]
        return result

    def get_resource(self, resource_id: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self._call("GET", "/resource", query={"id": resource_id})
        except ControlApiError as err:
            if err.status == 404:
                return None
            raise
        return result

    def drift(self, resource_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Change a resource out of band with a JSON merge patch (``None`` removes a field)."""
        result: dict[str, Any] = self._call("PATCH", "/resource", patch, query={"id": resource_id})
        return result

    def replace_resource(self, resource_id: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "/resource", body, query={"id": resource_id})
        return result

    def delete_resource(self, resource_id: str) -> None:
        """Delete a resource (and what is below it) out of band."""
        self._call("DELETE", "/resource", query={"id": resource_id})

    def operations(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/operations")["value"]
        return result


@dataclass
class ArmEmulatorHandle:
    """What a test gets from the ``arm_emulator`` fixture."""

    endpoint: str
    ca_bundle: str
    tenant_id: str
    client_id: str
    client_secret: str
    subscription_id: str
    control: ArmControlClient
    scopes: list[str] = field(default_factory=lambda: [ARM_SCOPE])

    def credential(
        self, client_id: str | None = None, client_secret: str | None = None, tenant_id: str | None = None
    ) -> Any:
        """A real ``ClientSecretCredential`` against the emulator's token endpoint."""
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(
            tenant_id or self.tenant_id,
            client_id or self.client_id,
            client_secret or self.client_secret,
            use_env_settings=False,
            **self.identity_kwargs(),
        )

    def identity_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that point any azure-identity credential at the emulator's token
        endpoint (``CertificateCredential``, ``ClientAssertionCredential``, ...)."""
        return {
            "authority": self.endpoint,
            "disable_instance_discovery": True,
            "connection_verify": self.ca_bundle,
        }

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that point any azure-mgmt client at the emulator.

        ``polling_interval`` is small because the test emulator answers ``Retry-After: 0``.
        ``use_env_settings=False``: the emulator is on loopback, so proxy variables must not
        apply, and the CA is passed explicitly (it also spares requests an environment scan
        per call).
        """
        return {
            "base_url": self.endpoint,
            "credential_scopes": list(self.scopes),
            "connection_verify": self.ca_bundle,
            "polling_interval": 0.02,
            "use_env_settings": False,
        }

    def client(
        self,
        client_class: type[T],
        *,
        subscription_id: str | None = None,
        credential: Any = None,
        **kwargs: Any,
    ) -> T:
        """Build an Azure SDK management client (``client_class(credential, subscription_id, ...)``)."""
        return client_class(  # type: ignore[call-arg]
            credential or self.credential(),
            subscription_id or self.subscription_id,
            **{**self.client_kwargs(), **kwargs},
        )

    def resource_client(self, *, subscription_id: str | None = None, credential: Any = None) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self.client(ResourceManagementClient, subscription_id=subscription_id, credential=credential)

    def env(self) -> dict[str, str]:
        """The ``sandbox.env`` variables for this emulator."""
        return {
            "AZURE_RESOURCE_MANAGER_ENDPOINT": self.endpoint,
            "AZURE_AUTHORITY_HOST": self.endpoint,
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_SUBSCRIPTION_ID": self.subscription_id,
            "REQUESTS_CA_BUNDLE": self.ca_bundle,
            "SSL_CERT_FILE": self.ca_bundle,
        }


class ArmHttp:
    """Plain HTTPS calls to the emulator with a real bearer token, past any Azure SDK client.

    For what an SDK client hides (status codes and headers exactly as sent, a body the SDK
    would not build) and for what a user does outside aso (``az redis regenerate-keys``, a
    resource made by hand). ``session`` is the ``requests.Session`` (CA bundle, token, no
    proxy variables), for a URL the emulator handed out, such as a ``Location`` header.
    """

    def __init__(self, arm: ArmEmulatorHandle) -> None:
        self.endpoint = arm.endpoint
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = arm.ca_bundle
        token = arm.credential().get_token(ARM_SCOPE).token
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, resource_id: str, api_version: str, body: Any = None) -> requests.Response:
        """``method`` on ``resource_id`` (or an action below it) at ``api_version``, any answer."""
        return self.session.request(
            method, f"{self.endpoint}{resource_id}?api-version={api_version}", json=body, timeout=10
        )

    def call_json(self, method: str, resource_id: str, api_version: str, body: Any = None) -> dict[str, Any]:
        """The JSON body of a call that must succeed (``{}`` for an empty one); raises
        ``requests.HTTPError`` with ARM's error body otherwise."""
        resp = self.call(method, resource_id, api_version, body)
        if resp.status_code >= 400:
            raise requests.HTTPError(f"{method} {resource_id}: {resp.status_code} {resp.text}", response=resp)
        result: dict[str, Any] = resp.json() if resp.content else {}
        return result


def _handle_from_info(info: dict[str, Any], control: ArmControlClient) -> ArmEmulatorHandle:
    return ArmEmulatorHandle(
        endpoint=info["endpoint"],
        ca_bundle=info["ca_bundle"],
        tenant_id=info["tenant_id"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        subscription_id=info["subscription_id"],
        control=control,
    )


class EmulatorThread:
    """Runs an :class:`~aso.sandbox.arm.ArmEmulator` on its own event loop in a daemon thread."""

    def __init__(
        self,
        state_dir: Path | None = None,
        retry_after: int | None = 0,
        profiles: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        from aso.sandbox.arm import ArmEmulator, EmulatorConfig

        self.emulator = ArmEmulator(
            EmulatorConfig(state_dir=state_dir, retry_after=retry_after, profiles=profiles)
        )
        self._thread = LoopThread("arm-emulator", self.emulator.start, self.emulator.stop)

    def start(self) -> ArmEmulatorHandle:
        try:
            self._thread.start(60)
        except Exception as exc:
            raise RuntimeError("ARM emulator failed to start") from exc
        emu = self.emulator
        control = ArmControlClient(emu.endpoint, emu.ca_path)
        return _handle_from_info(control.info(), control)

    def stop(self) -> None:
        self._thread.stop(30)
        self.emulator.state.cleanup()


class EmulatorProcess:
    """Runs ``python -m aso.sandbox.arm --dir DIR`` and waits for ``DIR/ready``."""

    def __init__(self, workdir: Path, state_dir: Path | None = None, retry_after: int | None = 0) -> None:
        self.workdir = workdir
        args = [sys.executable, "-m", "aso.sandbox.arm", "--dir", str(workdir)]
        if state_dir is not None:
            args += ["--state", str(state_dir)]
        if retry_after is not None:
            args += ["--retry-after", str(retry_after)]
        self._args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ArmEmulatorHandle:
        ready = self.workdir / "ready"
        ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen(self._args)
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"ARM emulator exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("ARM emulator did not become ready")
            time.sleep(0.05)
        env = read_env_file(self.workdir / "sandbox.env")
        control = ArmControlClient(env["AZURE_RESOURCE_MANAGER_ENDPOINT"], env["REQUESTS_CA_BUNDLE"])
        return _handle_from_info(control.info(), control)

    def stop(self) -> int:
        return 0 if self.proc is None else stop_process(self.proc)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``sandbox.env`` file (shell ``KEY=value`` lines)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        parts = shlex.split(value)
        out[key.removeprefix("export ").strip()] = parts[0] if parts else ""
    return out


@pytest.fixture(scope="session")
def arm_emulator_session() -> Iterator[ArmEmulatorHandle]:
    """One ARM emulator for the session (thread, or subprocess with ``ASO_ARM_EMULATOR=subprocess``)."""
    if os.environ.get("ASO_ARM_EMULATOR", "thread") == "subprocess":
        with tempfile.TemporaryDirectory(prefix="aso-arm-") as tmp:
            proc = EmulatorProcess(Path(tmp))
            handle = proc.start()
            try:
                yield handle
            finally:
                proc.stop()
        return
    runner = EmulatorThread()
    handle = runner.start()
    try:
        yield handle
    finally:
        runner.stop()


@pytest.fixture
def arm_emulator(arm_emulator_session: ArmEmulatorHandle) -> ArmEmulatorHandle:
    """The session's ARM emulator, reset (no resources, faults or counts) for this test."""
    arm_emulator_session.control.reset()
    return arm_emulator_session


@pytest.fixture
def arm_emulator_factory() -> Iterator[Callable[..., ArmEmulatorHandle]]:
    """Start extra, independent emulators (``state_dir=``, ``retry_after=``, ``profiles=``: extra
    profile mappings); each is stopped at the end of the test."""
    started: list[EmulatorThread] = []

    def start(
        state_dir: Path | None = None,
        retry_after: int | None = 0,
        profiles: Sequence[Mapping[str, Any]] = (),
    ) -> ArmEmulatorHandle:
        runner = EmulatorThread(state_dir=state_dir, retry_after=retry_after, profiles=profiles)
        started.append(runner)
        return runner.start()

    try:
        yield start
    finally:
        for runner in reversed(started):
            runner.stop()


@pytest.fixture
def arm_http(arm_emulator: ArmEmulatorHandle) -> ArmHttp:
    """Plain HTTPS calls to the (reset) ARM emulator with the default principal's token."""
    return ArmHttp(arm_emulator)


@pytest.fixture
def arm_control(arm_emulator: ArmEmulatorHandle) -> ArmControlClient:
    """The control-API client of the (reset) ARM emulator."""
    return arm_emulator.control
