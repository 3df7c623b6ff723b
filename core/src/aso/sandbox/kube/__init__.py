"""Local Kubernetes API server: enough of the real one for kopf, the kubernetes client and kubectl.

Start it with :class:`KubeApiServer` (``async start()/stop()``, ``url``, ``write_kubeconfig()``)
or ``python -m aso.sandbox.kube --port P``. The operator never imports this package; it talks to
the server over its socket like to any cluster.
"""

from .errors import ApiError
from .server import KubeApiServer, KubeApiServerThread, load_crd_documents

__all__ = ["ApiError", "KubeApiServer", "KubeApiServerThread", "load_crd_documents"]
