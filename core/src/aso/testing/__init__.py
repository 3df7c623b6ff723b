"""Test kit for aso and for third-party plugin authors (a pytest plugin: entry point ``pytest11: aso``).

It starts the local backends (ARM emulator, Kubernetes API server) and the operator for tests.
"""
