"""Local backends (no cluster, no Azure): the ARM emulator and the Kubernetes API server.

The operator runtime never imports this package, and it never imports the operator.
"""
