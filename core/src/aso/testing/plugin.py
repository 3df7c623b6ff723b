"""pytest plugin entry point: collects the fixtures of the test kit."""

pytest_plugins = ["aso.testing.arm", "aso.testing.kube", "aso.testing.operator"]
