"""Where the emulator keeps what must survive a restart: CA, signing key, port and store.

Without a state directory everything is generated at start and kept in memory (the CA
bundle still goes to a file, as clients need one). With ``--state DIR`` the files below are
created on first start and reused afterwards:

- ``ca.pem`` / ``ca-key.pem``: the test CA clients trust (``REQUESTS_CA_BUNDLE``);
- ``signing.key``: HMAC key of issued access tokens (old tokens stay valid);
- ``port``: the port the emulator listens on (reused when free);
- ``store.json``: resources, principals, subscriptions and operations.
"""

from __future__ import annotations

import json
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme

from .store import write_json_atomic


@dataclass
class TlsMaterial:
    ca: trustme.CA
    ca_path: Path

    def server_context(self, host: str) -> ssl.SSLContext:
        names = sorted({host, "127.0.0.1", "localhost"})
        cert = self.ca.issue_cert(*names)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        return ctx


class StateDir:
    """Access to the state directory, or to a private temporary one when there is none."""

    def __init__(self, path: Path | None) -> None:
        self.persistent = path is not None
        if path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="aso-arm-")
            path = Path(self._tmp.name)
        self.path = path
        self.path.mkdir(parents=True, exist_ok=True)

    def tls(self) -> TlsMaterial:
        cert, key = self.path / "ca.pem", self.path / "ca-key.pem"
        if cert.exists() and key.exists():
            ca = trustme.CA.from_pem(cert.read_bytes(), key.read_bytes())
        else:
            ca = trustme.CA(organization_name="aso ARM emulator")
            key.write_bytes(ca.private_key_pem.bytes())
            key.chmod(0o600)
            ca.cert_pem.write_to_path(str(cert))
        return TlsMaterial(ca=ca, ca_path=cert)

    def signing_key(self) -> bytes:
        path = self.path / "signing.key"
        if path.exists():
            return bytes.fromhex(path.read_text().strip())
        k = secrets.token_bytes(32)
        path.write_text(k.hex())
        path.chmod(0o600)
        return k

    def saved_port(self) -> int | None:
        path = self.path / "port"
        if self.persistent and path.exists():
            try:
                return int(path.read_text().strip())
            except ValueError:
                return None
        return None

    def save_port(self, port: int) -> None:
        (self.path / "port").write_text(str(port))

    def load_store(self) -> dict[str, Any] | None:
        path = self.path / "store.json"
        if self.persistent and path.exists():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
        return None

    def save_store(self, data: dict[str, Any]) -> None:
        if self.persistent:
            write_json_atomic(self.path / "store.json", data)

    def cleanup(self) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
