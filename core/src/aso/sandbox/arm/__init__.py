"""ARM emulator: a local Azure Resource Manager over HTTPS.

Real Azure SDK clients and azure-identity credentials work against it unchanged: point them
at :attr:`ArmEmulator.endpoint` with the CA bundle :attr:`ArmEmulator.ca_path`. It never
imports the operator; it only talks over its socket. Run it alone with
``python -m aso.sandbox.arm --dir DIR [--state DIR]``.
"""

from .auth import FederatedCredential, Principal
from .profiles import LroSpec, Profile
from .server import ArmEmulator, EmulatorConfig

__all__ = [
    "ArmEmulator",
    "EmulatorConfig",
    "FederatedCredential",
    "LroSpec",
    "Principal",
    "Profile",
]
